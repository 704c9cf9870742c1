namespace Hokusai.Bus;

/// <summary>The RabbitMQ queues this package consumes from, as ops see them in the management UI.</summary>
public static class HokusaiQueues
{
    /// <summary>Webhook deliveries; dead letters (retries exhausted, invalid messages) in <c>hokusai-webhook-delivery_error</c>.</summary>
    public const string WebhookDelivery = "hokusai-webhook-delivery";

    /// <summary>The legacy Redis feed (migration phase 1); dead letters in <c>hokusai-redis-fallback_error</c>.</summary>
    public const string RedisFallback = "hokusai-redis-fallback";

    /// <summary>The suffix MassTransit gives a queue's dead-letter queue.</summary>
    public const string ErrorSuffix = "_error";
}
