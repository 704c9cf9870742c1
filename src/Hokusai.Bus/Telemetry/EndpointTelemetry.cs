namespace Hokusai.Bus;

/// <summary>
/// Writes to <see cref="WebhookDeliveryTelemetry"/> on behalf of one endpoint: each event stamped with the endpoint's
/// name and, for a delivery's events, what is delivered (<see cref="DeliverySubject"/>).
/// </summary>
internal sealed class EndpointTelemetry(WebhookDeliveryTelemetry channel, string endpoint)
{
    /// <summary>Writes the event stamped so, and returns it as written.</summary>
    public T Write<T>(T deliveryEvent, DeliverySubject? subject = null)
        where T : WebhookDeliveryEvent
    {
        var stamped = (T)((WebhookDeliveryEvent)deliveryEvent with
        {
            Endpoint = endpoint,
            ModelId = subject?.ModelId,
            EventType = subject?.EventType ?? deliveryEvent.EventType,
        });
        channel.Write(stamped);
        return stamped;
    }
}
