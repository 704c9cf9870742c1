using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Receiver;

/// <summary>Every log line of the receiver. Secrets and signature values never reach a message.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Webhook {Path} from {Remote} refused ({Status}): {Reason}")]
    public static partial void Refused(ILogger logger, string path, string? remote, int status, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Webhook {Path} refused ({Status}): {Reason}")]
    public static partial void InvalidBody(ILogger logger, string path, int status, string reason);

    [LoggerMessage(4, LogLevel.Information, "Webhook {IdempotencyKey} is a duplicate; already processed")]
    public static partial void Duplicate(ILogger logger, string idempotencyKey);

    [LoggerMessage(5, LogLevel.Information, "Webhook {IdempotencyKey} is being processed by another request (409)")]
    public static partial void InProgress(ILogger logger, string idempotencyKey);

    [LoggerMessage(6, LogLevel.Information, "Webhook {EventType} {IdempotencyKey} for model {ModelId} processed in {ElapsedMs:0.0} ms")]
    public static partial void Processed(ILogger logger, string eventType, string idempotencyKey, string modelId, double elapsedMs);

    [LoggerMessage(7, LogLevel.Error, "Webhook {IdempotencyKey} handler failed (500); the key is released for the sender's retry")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string idempotencyKey);

    [LoggerMessage(8, LogLevel.Error, "Webhook {IdempotencyKey}: idempotency store unavailable (503); the handler was not called")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, string idempotencyKey);

    [LoggerMessage(9, LogLevel.Warning, "Webhook {IdempotencyKey} was processed but could not be marked; a later duplicate may run the handler again")]
    public static partial void MarkFailed(ILogger logger, Exception exception, string idempotencyKey);

    [LoggerMessage(10, LogLevel.Warning, "Webhook {IdempotencyKey}: could not release the claim; retries get 409 until its lease lapses")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string idempotencyKey);

    [LoggerMessage(11, LogLevel.Debug, "Webhook {IdempotencyKey}: the sender went away while the handler ran; the key is released")]
    public static partial void Aborted(ILogger logger, string idempotencyKey);
}
