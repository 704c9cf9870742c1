namespace Hokusai.Bus;

/// <summary>
/// One webhook subscription: its name, its queue, its settings and filter, and its own delivery policy and circuit
/// breaker, so a dead or slow endpoint never delays another.
/// </summary>
internal sealed class WebhookEndpoint(string name, HokusaiWebhookOptions settings, WebhookDelivery delivery, WebhookCircuitBreaker breaker)
{
    /// <summary><c>default</c> (the guide's settings) or the name under <c>Hokusai:Webhook:Endpoints</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The RabbitMQ queue it consumes from.</summary>
    public string Queue { get; } = WebhookEndpointNames.QueueOf(name);

    public HokusaiWebhookOptions Settings { get; } = settings;

    public WebhookDelivery Delivery { get; } = delivery;

    public WebhookCircuitBreaker Breaker { get; } = breaker;
}
