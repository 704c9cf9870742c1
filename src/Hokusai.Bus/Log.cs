using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>Every log line of the plugin. URLs are redacted; secrets never reach a message.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug,
        "Webhook attempt {Attempt} for {IdempotencyKey} to {Url}: {Outcome} in {ElapsedMs:0.0} ms (trial: {IsTrial})")]
    public static partial void Attempt(ILogger logger, string idempotencyKey, string url, int attempt, string outcome,
        double elapsedMs, bool isTrial);

    [LoggerMessage(2, LogLevel.Information,
        "Delivered {IdempotencyKey} to {Url} after {Attempts} attempt(s) in {ElapsedMs:0.0} ms")]
    public static partial void Delivered(ILogger logger, string idempotencyKey, string url, int attempts, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning,
        "Giving up on {IdempotencyKey} to {Url} after {Attempts} attempt(s): {Reason}; the message goes to the error queue")]
    public static partial void DeliveryFailed(ILogger logger, string idempotencyKey, string url, int attempts, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Retry {Attempt} to {Url} in {DelayMs:0} ms")]
    public static partial void RetryScheduled(ILogger logger, string url, int attempt, double delayMs);

    [LoggerMessage(5, LogLevel.Warning, "Webhook circuit breaker for {Url}: {From} -> {To}")]
    public static partial void BreakerChanged(ILogger logger, string url, WebhookCircuitState from, WebhookCircuitState to);

    [LoggerMessage(6, LogLevel.Information,
        "Waiting in RabbitMQ: {IdempotencyKey} to {Url} comes back in {DelayMs:0} ms ({Attempts} attempt(s) counted so far; last: {Reason})")]
    public static partial void Deferred(ILogger logger, string idempotencyKey, string url, double delayMs, int attempts, string reason);

    [LoggerMessage(7, LogLevel.Debug, "Published {IdempotencyKey} to Redis channel {Channel} ({Subscribers} subscribers) and list")]
    public static partial void RedisPublished(ILogger logger, string idempotencyKey, string channel, long subscribers);

    [LoggerMessage(8, LogLevel.Warning, "Redis fallback attempt {Attempt} for {IdempotencyKey} failed: {Reason}")]
    public static partial void RedisFailed(ILogger logger, string idempotencyKey, int attempt, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Redis connection {Change}: {FailureType}")]
    public static partial void RedisConnectionChanged(ILogger logger, string change, string failureType);

    [LoggerMessage(10, LogLevel.Warning, "Rejected a message on {Queue}; it goes to the error queue: {Reason}")]
    public static partial void Invalid(ILogger logger, string queue, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Redis is unavailable; {IdempotencyKey} waits in RabbitMQ and comes back in {DelayMs:0} ms: {Reason}")]
    public static partial void RedisDeferred(ILogger logger, string idempotencyKey, double delayMs, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Receive endpoint {Endpoint} faulted (for example RabbitMQ closed its channel); MassTransit reconnects: {Reason}")]
    public static partial void EndpointFaulted(ILogger logger, string endpoint, string reason);

    [LoggerMessage(13, LogLevel.Information, "Redis already has {IdempotencyKey} (a redelivery); nothing written twice")]
    public static partial void RedisDuplicate(ILogger logger, string idempotencyKey);
}
