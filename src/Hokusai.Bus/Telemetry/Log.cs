using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>Every log line of the plugin. URLs are redacted; secrets never reach a message.</summary>
internal static partial class Log
{
    /// <summary>Debug for an accepted attempt; Information for one that failed (what an operator wants to see).</summary>
    [LoggerMessage(EventId = 1, EventName = "Attempt",
        Message = "Webhook attempt {Attempt} for {IdempotencyKey} to {Url}: {Outcome} in {ElapsedMs:0.0} ms (trial: {IsTrial})")]
    public static partial void Attempt(ILogger logger, LogLevel level, string idempotencyKey, string url, int attempt, string outcome,
        double elapsedMs, bool isTrial);

    /// <summary>
    /// Information after more than one attempt; Debug at the first, the quiet path of almost every delivery (every one is
    /// in the delivery log and the metrics). A console line per delivery cost the host a third more CPU per delivery.
    /// </summary>
    [LoggerMessage(EventId = 2, EventName = "Delivered",
        Message = "Delivered {IdempotencyKey} to {Url} after {Attempts} attempt(s) in {ElapsedMs:0.0} ms")]
    public static partial void Delivered(ILogger logger, LogLevel level, string idempotencyKey, string url, int attempts, double elapsedMs);

    [LoggerMessage(EventId = 3, EventName = "DeliveryFailed", Level = LogLevel.Warning,
        Message = "Giving up on {IdempotencyKey} to {Url} after {Attempts} attempt(s): {Reason}; the message goes to the error queue")]
    public static partial void DeliveryFailed(ILogger logger, string idempotencyKey, string url, int attempts, string reason);

    [LoggerMessage(EventId = 4, EventName = "RetryScheduled", Level = LogLevel.Debug,
        Message = "Retry {Attempt} to {Url} in {DelayMs:0} ms")]
    public static partial void RetryScheduled(ILogger logger, string url, int attempt, double delayMs);

    [LoggerMessage(EventId = 5, EventName = "BreakerChanged", Level = LogLevel.Warning,
        Message = "Webhook circuit breaker for {Url}: {From} -> {To}")]
    public static partial void BreakerChanged(ILogger logger, string url, WebhookCircuitState from, WebhookCircuitState to);

    [LoggerMessage(EventId = 6, EventName = "Deferred", Level = LogLevel.Information,
        Message = "Waiting in RabbitMQ: {IdempotencyKey} to {Url} comes back in {DelayMs:0} ms ({Attempts} attempt(s) counted so far; last: {Reason})")]
    public static partial void Deferred(ILogger logger, string idempotencyKey, string url, double delayMs, int attempts, string reason);

    [LoggerMessage(EventId = 12, EventName = "EndpointFaulted", Level = LogLevel.Warning,
        Message = "Receive endpoint {Endpoint} faulted (for example RabbitMQ closed its channel); MassTransit reconnects: {Reason}")]
    public static partial void EndpointFaulted(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 15, EventName = "AcknowledgementTimedOut", Level = LogLevel.Error,
        Message = "RabbitMQ closed the channel of {Queue}: a message was held unacknowledged for {HeldSeconds:0} s, longer than the "
                  + "broker's consumer_timeout. Nothing is lost (RabbitMQ delivers it again, possibly twice), but set {Setting} "
                  + "(now {MaxHoldSeconds:0} s) to at most half of consumer_timeout, or raise consumer_timeout in rabbitmq.conf. "
                  + "Until then this host holds messages at most {LimitSeconds:0.#} s.")]
    public static partial void AcknowledgementTimedOut(
        ILogger logger, string queue, double heldSeconds, string setting, double maxHoldSeconds, double limitSeconds);

    [LoggerMessage(EventId = 16, EventName = "EndpointDisconnected", Level = LogLevel.Debug,
        Message = "Receive endpoint {Endpoint} cannot reach RabbitMQ; MassTransit retries: {Reason}")]
    public static partial void EndpointDisconnected(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 14, EventName = "Filtered", Level = LogLevel.Debug,
        Message = "Endpoint {Endpoint} leaves out {IdempotencyKey} ({Reason}); acknowledged without a request")]
    public static partial void Filtered(ILogger logger, string endpoint, string idempotencyKey, string reason);

    [LoggerMessage(EventId = 17, EventName = "ListenerFailed", Level = LogLevel.Error,
        Message = "Delivery-event listener {Listener} threw; its exception is contained and delivery goes on. Later failures of it are "
                  + "counted in hokusai_listener_failures, not logged.")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string listener);
}
