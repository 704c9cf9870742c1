namespace Hokusai.Bus;

/// <summary>The one channel delivery writes to; it hands each event to every registered listener, in order.</summary>
internal sealed class WebhookDeliveryTelemetry(IEnumerable<IWebhookDeliveryListener> listeners)
{
    private readonly IWebhookDeliveryListener[] _listeners = [.. listeners];

    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        foreach (var listener in _listeners)
        {
            listener.Write(deliveryEvent);
        }
    }
}
