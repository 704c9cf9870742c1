using System.Diagnostics.Metrics;

namespace Hokusai.Bus;

/// <summary>
/// The meter <c>Hokusai.Bus</c>, with the guide's instrument names. Never tagged with URLs, keys or secrets.
/// </summary>
internal sealed class HokusaiBusMetrics : IWebhookDeliveryListener
{
    public const string MeterName = HokusaiTopology.MeterName;

    private readonly Counter<long> _success;
    private readonly Counter<long> _failure;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _deferred;
    private readonly Counter<long> _endpointFaults;

    private int _breakerState;

    public HokusaiBusMetrics(IMeterFactory meterFactory)
    {
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
        meter.CreateObservableGauge("webhook_circuit_breaker_state", () => Volatile.Read(ref _breakerState), null,
            "Circuit breaker: 0 closed, 1 open, 2 half-open.");
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
        switch (deliveryEvent)
        {
            case WebhookDelivered e:
                Delivered(e.Duration);
                break;
            case WebhookFailed e:
                Failed(e.Duration);
                break;
            case WebhookRetryScheduled:
                Retried();
                break;
            case WebhookDeferred:
                Deferred();
                break;
            case WebhookBreakerChanged e:
                Volatile.Write(ref _breakerState, (int)e.To);
                break;
        }
    }

    public void Delivered(TimeSpan elapsed)
    {
        _success.Add(1);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", "success"));
    }

    public void Failed(TimeSpan elapsed)
    {
        _failure.Add(1);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", "failure"));
    }

    public void Retried() => _retries.Add(1);

    public void Deferred() => _deferred.Add(1);

    public void EndpointFaulted() => _endpointFaults.Add(1);
}
