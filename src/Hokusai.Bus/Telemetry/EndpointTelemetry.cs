namespace Hokusai.Bus;

/// <summary>
/// Writes to <see cref="WebhookDeliveryTelemetry"/> on behalf of one endpoint: each event stamped with the endpoint's
/// name and, for a delivery's events, what is delivered (<see cref="DeliverySubject"/>).
/// </summary>
internal sealed class EndpointTelemetry(WebhookDeliveryTelemetry channel, string endpoint)
{
    public void Write(WebhookDeliveryEvent deliveryEvent, DeliverySubject? subject = null) =>
        channel.Write(deliveryEvent with
        {
            Endpoint = endpoint,
            ModelId = subject?.ModelId,
            EventType = subject?.EventType ?? deliveryEvent.EventType,
        });
}
