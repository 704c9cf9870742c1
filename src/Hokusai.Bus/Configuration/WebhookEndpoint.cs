namespace Hokusai.Bus;

/// <summary>
/// One webhook subscription: its name, its queue, its settings and filter, and its own delivery policy, circuit breaker
/// and hold limit, so a dead or slow endpoint never delays another, and an acknowledgement timeout on its queue lowers
/// its hold only.
/// </summary>
internal sealed class WebhookEndpoint(
    string name, HokusaiWebhookOptions settings, WebhookDelivery delivery, WebhookCircuitBreaker breaker, HoldLimit holdLimit,
    Func<string, string> settingName)
{
    /// <summary><c>default</c> (the guide's settings) or the name under <c>Hokusai:Webhook:Endpoints</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The RabbitMQ queue it consumes from.</summary>
    public string Queue { get; } = WebhookEndpointNames.QueueOf(name);

    public HokusaiWebhookOptions Settings { get; } = settings;

    public WebhookDelivery Delivery { get; } = delivery;

    public WebhookCircuitBreaker Breaker { get; } = breaker;

    /// <summary>The longest this endpoint holds a message, lowered when RabbitMQ times an acknowledgement out on its queue.</summary>
    public HoldLimit HoldLimit { get; } = holdLimit;

    /// <summary>How a message names the setting of <paramref name="member"/> for this endpoint (<c>WEBHOOK_MAX_HOLD</c>).</summary>
    public string SettingName(string member) => settingName(member);
}
