using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>Every log line of the Redis fallback. Values from messages are sanitized first; passwords never appear.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 7, EventName = "RedisPublished", Level = LogLevel.Debug,
        Message = "Published {IdempotencyKey} to Redis channel {Channel} ({Subscribers} subscribers) and list")]
    public static partial void RedisPublished(ILogger logger, string idempotencyKey, string channel, long subscribers);

    [LoggerMessage(EventId = 8, EventName = "RedisFailed", Level = LogLevel.Warning,
        Message = "Redis fallback attempt {Attempt} for {IdempotencyKey} failed: {Reason}")]
    public static partial void RedisFailed(ILogger logger, string idempotencyKey, int attempt, string reason);

    [LoggerMessage(EventId = 9, EventName = "RedisConnectionLost", Level = LogLevel.Warning,
        Message = "Redis connection lost ({ConnectionType}): {FailureType}")]
    public static partial void RedisConnectionLost(ILogger logger, string connectionType, string failureType);

    /// <summary>Only for a connection that was lost; a connection that comes up the first time is no restore.</summary>
    [LoggerMessage(EventId = 10, EventName = "RedisConnectionRestored", Level = LogLevel.Warning,
        Message = "Redis connection restored ({ConnectionType}) after {FailureType}")]
    public static partial void RedisConnectionRestored(ILogger logger, string connectionType, string failureType);

    [LoggerMessage(EventId = 11, EventName = "RedisDeferred", Level = LogLevel.Warning,
        Message = "Redis is unavailable; {IdempotencyKey} waits in RabbitMQ and comes back in {DelayMs:0} ms: {Reason}")]
    public static partial void RedisDeferred(ILogger logger, string idempotencyKey, double delayMs, string reason);

    [LoggerMessage(EventId = 13, EventName = "RedisDuplicate", Level = LogLevel.Information,
        Message = "Redis already has {IdempotencyKey} (a redelivery); nothing written twice")]
    public static partial void RedisDuplicate(ILogger logger, string idempotencyKey);

    [LoggerMessage(EventId = 15, EventName = "RedisConnectionReplaced", Level = LogLevel.Warning,
        Message = "Redis connection failures for {Seconds:0} s with no success: replacing the connection ({Failure})")]
    public static partial void RedisConnectionReplaced(ILogger logger, double seconds, string failure);
}
