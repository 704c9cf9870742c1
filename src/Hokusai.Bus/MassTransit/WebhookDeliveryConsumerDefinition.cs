using MassTransit;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// The default endpoint's policy, here and not in the transport callback so that the in-memory test harness runs it
/// too: queue <c>hokusai-webhook-delivery</c>, then <see cref="WebhookEndpointPolicy"/>. Named endpoints get the same
/// policy from <see cref="WebhookEndpointConnector"/>.
/// </summary>
internal sealed class WebhookDeliveryConsumerDefinition : ConsumerDefinition<WebhookDeliveryConsumer>
{
    private readonly int _concurrency;

    public WebhookDeliveryConsumerDefinition(IOptions<HokusaiWebhookOptions> options)
    {
        _concurrency = options.Value.Concurrency;
        EndpointName = HokusaiQueues.WebhookDelivery;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookDeliveryConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        WebhookEndpointPolicy.Apply(endpointConfigurator, _concurrency, context);
}
