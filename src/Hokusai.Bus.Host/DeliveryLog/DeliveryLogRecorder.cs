using System.Diagnostics.Metrics;
using Hokusai.Bus.Operations.DeliveryLog;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>
/// This host's side of the delivery log: a listener of the plugin's telemetry channel that turns every attempt, retry,
/// wait, outcome and filter into a <see cref="DeliveryRecord"/>, plus what <c>/ingest</c> accepted, handed to a
/// <see cref="DeliveryLogWriter"/> that never blocks a delivery. Records dropped (a full buffer, the broker away) are
/// counted in <c>hokusai_delivery_log_dropped</c> and logged once per outage. Off (<c>DELIVERY_LOG=false</c>), it
/// records nothing.
/// </summary>
internal sealed class DeliveryLogRecorder : IWebhookDeliveryListener, IHostedService, IAsyncDisposable
{
    private readonly DeliveryLogWriter? _writer;
    private readonly TimeProvider _time;

    public DeliveryLogRecorder(
        IOptions<DeliveryLogOptions> options, HostSettings settings, TimeProvider time, IMeterFactory meters, ILogger<DeliveryLogRecorder> logger)
    {
        _time = time;
        var log = options.Value;
        if (!log.Enabled)
        {
            return;
        }

        _writer = new DeliveryLogWriter(
            cancellationToken => settings.RabbitMq.ConnectAsync("hokusai-bus delivery log", cancellationToken),
            new DeliveryLogStream(MaxAge: log.MaxAge, MaxBytes: log.MaxBytes),
            problem => Log.DeliveryLogProblem(logger, problem));
        meters.Create(HokusaiNames.MeterName).CreateObservableCounter("hokusai_delivery_log_dropped", () => _writer.Dropped, "{record}",
            "Delivery-log records not written: the buffer was full or the broker did not take them. Deliveries are not affected.");
    }

    /// <summary>This process, as records name it: the machine (a container's id) and the process id.</summary>
    public static string HostName { get; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Records written so far (for tests and the benchmark).</summary>
    public long Written => _writer?.Written ?? 0;

    /// <summary>Records dropped so far.</summary>
    public long Dropped => _writer?.Dropped ?? 0;

    /// <summary><c>/ingest</c> accepted an event.</summary>
    public void Accepted(string key, string? modelId, string eventType) =>
        _writer?.TryWrite(new DeliveryRecord
        {
            Kind = DeliveryRecordKind.Accepted, At = _time.GetUtcNow(), Key = key, ModelId = modelId, EventType = eventType, Host = HostName,
        });

    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        if (_writer is null)
        {
            return;
        }

        var (kind, key) = deliveryEvent switch
        {
            // An accepted attempt is stored with the outcome it leads to, in the Delivered record (read back as two).
            WebhookAttemptFinished { Kind: WebhookAttemptKind.Accepted } => (default(DeliveryRecordKind?), ""),
            WebhookAttemptFinished e => (DeliveryRecordKind.Attempt, e.IdempotencyKey),
            WebhookRetryScheduled e => (DeliveryRecordKind.RetryScheduled, e.IdempotencyKey),
            WebhookDeferred e => (DeliveryRecordKind.Deferred, e.IdempotencyKey),
            WebhookDelivered e => (DeliveryRecordKind.Delivered, e.IdempotencyKey),
            WebhookFailed e => (DeliveryRecordKind.Failed, e.IdempotencyKey),
            WebhookFiltered e => (DeliveryRecordKind.Filtered, e.IdempotencyKey),
            _ => (default(DeliveryRecordKind?), ""),
        };
        if (kind is null)
        {
            return; // not about one delivery (a breaker's change), or an accepted attempt (in its Delivered record)
        }

        var now = _time.GetUtcNow();
        var attempt = deliveryEvent as WebhookAttemptFinished ?? (deliveryEvent as WebhookDelivered)?.AcceptedAttempt;
        var record = new DeliveryRecord
        {
            Kind = kind.Value, At = now, Key = key, ModelId = deliveryEvent.ModelId, EventType = deliveryEvent.EventType,
            Endpoint = deliveryEvent.Endpoint, Host = HostName,
            Attempt = attempt?.Attempt ?? (deliveryEvent as WebhookRetryScheduled)?.NextAttempt,
            Status = attempt?.StatusCode,
            Outcome = attempt?.Outcome,
            LatencyMs = attempt is null ? null : Math.Round(attempt.Duration.TotalMilliseconds, 2),
            Trial = attempt?.IsTrial,
            NextAt = deliveryEvent switch
            {
                WebhookRetryScheduled e => now + e.Delay,
                WebhookDeferred e => now + e.Delay,
                _ => null,
            },
            Attempts = deliveryEvent switch
            {
                WebhookDeferred e => e.Attempts,
                WebhookDelivered e => e.Attempts,
                WebhookFailed e => e.Attempts,
                _ => null,
            },
            Reason = deliveryEvent switch
            {
                WebhookDeferred e => e.Reason,
                WebhookFailed e => e.Reason,
                WebhookFiltered e => e.Reason,
                _ => null,
            },
        };
        _writer.TryWrite(record);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes what is buffered, for up to 3 s, as the host stops.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _writer?.FlushAndStopAsync(TimeSpan.FromSeconds(3)) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _writer?.DisposeAsync() ?? ValueTask.CompletedTask;
}
