using System.Diagnostics.Metrics;

namespace Hokusai.Bus;

/// <summary>
/// The meter <c>Hokusai.Bus</c>, with the guide's instrument names, each measurement tagged <c>endpoint</c> (<c>default</c>
/// or the endpoint's name). Never tagged with URLs, keys or secrets.
/// </summary>
internal sealed class HokusaiBusMetrics : IWebhookDeliveryListener
{
    public const string MeterName = HokusaiNames.MeterName;

    private readonly Counter<long> _success;
    private readonly Counter<long> _failure;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _deferred;
    private readonly Counter<long> _endpointFaults;
    private readonly Counter<long> _filtered;
    private readonly Counter<long> _ackTimeouts;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, WebhookCircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, EndpointHealth> _health = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public HokusaiBusMetrics(IMeterFactory meterFactory, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var meter = meterFactory.Create(MeterName);
        _success = meter.CreateCounter<long>("webhook_publish_success", "{delivery}",
            "Registrations delivered (a 2xx answer).");
        _failure = meter.CreateCounter<long>("webhook_publish_failure", "{delivery}",
            "Registrations whose every attempt failed; they are in the _error queue.");
        _retries = meter.CreateCounter<long>("webhook_retry_count", "{retry}",
            "Retries after a failed attempt.");
        _deferred = meter.CreateCounter<long>("webhook_deferred", "{delivery}",
            "Deliveries handed to a RabbitMQ delay queue because the next wait would not fit in the hold (MaxHold).");
        _endpointFaults = meter.CreateCounter<long>("hokusai_endpoint_faults", "{fault}",
            "Receive endpoint faults, e.g. RabbitMQ closing a channel; MassTransit reconnects.");
        _ackTimeouts = meter.CreateCounter<long>("hokusai_ack_timeouts", "{closure}",
            "Channels RabbitMQ closed because a message was held unacknowledged longer than its consumer_timeout; each lowers the hold.");
        _filtered = meter.CreateCounter<long>("webhook_filtered", "{registration}",
            "Registrations an endpoint's filter left out: acknowledged without a request.");
        meter.CreateObservableGauge("webhook_circuit_breaker_state",
            () => _breakers.IsEmpty
                ? [new Measurement<int>((int)WebhookCircuitState.Closed, Tag(WebhookEndpointNames.Default))]
                : _breakers.Select(b => new Measurement<int>((int)b.Value.State, Tag(b.Key))),
            null, "Circuit breaker: 0 closed, 1 open, 2 half-open.");
        meter.CreateObservableGauge("hokusai_endpoint_failing_seconds",
            () => _health.Select(h => new Measurement<double>(h.Value.FailingSeconds, Tag(h.Key))), "s",
            "How long an endpoint's attempts have failed, since its last success; 0 while healthy (as this host sees it).");
        meter.CreateObservableGauge("hokusai_oldest_waiting_seconds",
            () => _health.Select(h => new Measurement<double>(h.Value.OldestWaitingSeconds, Tag(h.Key))), "s",
            "The age of the oldest delivery waiting in this host, or handed by it to a RabbitMQ delay queue, for an endpoint.");
        _duration = meter.CreateHistogram<double>("webhook_delivery_duration", "s",
            "Time from the first attempt to the final outcome of a delivery, retries included.",
            tags: null,
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
            });
    }

    /// <summary>The metrics side of the telemetry channel.</summary>
    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        var endpoint = Tag(deliveryEvent.Endpoint);
        var health = _health.GetOrAdd(deliveryEvent.Endpoint, _ => new EndpointHealth(_time));
        switch (deliveryEvent)
        {
            case WebhookAttemptFinished e when e.Kind != WebhookAttemptKind.NotSent:
                health.Attempted(e.Kind == WebhookAttemptKind.Accepted || e.StatusCode is 413 or 431);
                break;
            case WebhookDelivered e:
                health.Ended(e.IdempotencyKey);
                _success.Add(1, endpoint);
                _duration.Record(e.Duration.TotalSeconds, endpoint, new KeyValuePair<string, object?>("outcome", "success"));
                break;
            case WebhookFailed e:
                health.Ended(e.IdempotencyKey);
                _failure.Add(1, endpoint);
                _duration.Record(e.Duration.TotalSeconds, endpoint, new KeyValuePair<string, object?>("outcome", "failure"));
                break;
            case WebhookRetryScheduled e:
                health.Waits(e.IdempotencyKey, e.Delay);
                _retries.Add(1, endpoint);
                break;
            case WebhookDeferred e:
                health.Waits(e.IdempotencyKey, e.Delay);
                _deferred.Add(1, endpoint);
                break;
            case WebhookFiltered:
                _filtered.Add(1, endpoint);
                break;
        }
    }

    /// <summary>Reports <paramref name="breaker"/>'s state on the gauge, tagged <paramref name="endpoint"/>, read when it is observed.</summary>
    public void Track(string endpoint, WebhookCircuitBreaker breaker) => _breakers.TryAdd(endpoint, breaker);

    private static KeyValuePair<string, object?> Tag(string endpoint) => new("endpoint", endpoint);

    public void EndpointFaulted() => _endpointFaults.Add(1);

    public void AcknowledgementTimedOut(string queue) => _ackTimeouts.Add(1, new KeyValuePair<string, object?>("queue", queue));
}
