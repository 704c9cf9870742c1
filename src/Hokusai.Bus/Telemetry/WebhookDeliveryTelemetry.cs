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

    /// <summary>The channel as one endpoint writes to it: each event stamped with the endpoint's name.</summary>
    public EndpointTelemetry For(string endpoint) => new(this, endpoint);
}
