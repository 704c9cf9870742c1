namespace Hokusai.Bus;

/// <summary>Writes to <see cref="WebhookDeliveryTelemetry"/> on behalf of one endpoint.</summary>
internal sealed class EndpointTelemetry(WebhookDeliveryTelemetry channel, string endpoint)
{
    public void Write(WebhookDeliveryEvent deliveryEvent) =>
        channel.Write(deliveryEvent.Endpoint == endpoint ? deliveryEvent : deliveryEvent with { Endpoint = endpoint });
}
