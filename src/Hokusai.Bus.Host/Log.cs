namespace Hokusai.Bus.Host;

/// <summary>Every log line of the host. Secrets never reach a message; values from requests are sanitized first.</summary>
internal static partial class Log
{
    /// <summary>Debug, as a delivery accepted at its first attempt: every acceptance is in the delivery log and <c>ingest_accepted</c>; a console line per request cost more CPU than the rest of /ingest.</summary>
    [LoggerMessage(EventId = 101, EventName = "IngestAccepted", Level = LogLevel.Debug,
        Message = "Ingested {IdempotencyKey} ({EventType}, {Shape} shape), confirmed by RabbitMQ in {ConfirmMs:0.0} ms")]
    public static partial void IngestAccepted(ILogger logger, string idempotencyKey, string eventType, string shape, double confirmMs);

    [LoggerMessage(EventId = 102, EventName = "IngestRefused", Level = LogLevel.Warning,
        Message = "Refused a POST to /ingest with {Status} ({Reason}): {Detail}")]
    public static partial void IngestRefused(ILogger logger, int status, string reason, string detail);

    [LoggerMessage(EventId = 103, EventName = "IngestBrokerUnavailable", Level = LogLevel.Error,
        Message = "Could not publish {IdempotencyKey} to RabbitMQ within {TimeoutSeconds} s ({Error}); answered 503 with Retry-After, the producer retries")]
    public static partial void IngestBrokerUnavailable(ILogger logger, string idempotencyKey, double timeoutSeconds, string error);

    [LoggerMessage(EventId = 104, EventName = "BrokerUnreachable", Level = LogLevel.Error,
        Message = "Cannot connect to RabbitMQ at {Url}: {Problem}. Retrying; /health/ready answers 503 until connected.")]
    public static partial void BrokerUnreachable(ILogger logger, string url, string problem);

    [LoggerMessage(EventId = 105, EventName = "BrokerConnected", Level = LogLevel.Information,
        Message = "Connected to RabbitMQ at {Url}")]
    public static partial void BrokerConnected(ILogger logger, string url);

    [LoggerMessage(EventId = 106, EventName = "BrokerNode", Level = LogLevel.Information,
        Message = "Connected to RabbitMQ node {Node} (before: {Previous})")]
    public static partial void BrokerNode(ILogger logger, string node, string previous);

    [LoggerMessage(EventId = 107, EventName = "DeliveryLogProblem", Level = LogLevel.Warning,
        Message = "Delivery log: {Problem}")]
    public static partial void DeliveryLogProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 108, EventName = "DeliveryLogUnreadable", Level = LogLevel.Warning,
        Message = "GET /deliveries answered 503: the delivery log cannot be read now ({Problem})")]
    public static partial void DeliveryLogUnreadable(ILogger logger, string problem);
}
