using MassTransit;
using MassTransit.Middleware;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// The delivery endpoint's policy, here and not in the transport callback so that the in-memory test harness runs
/// it too: queue <c>hokusai-webhook-delivery</c>, <c>WEBHOOK_CONCURRENCY</c> deliveries at once, raw JSON accepted
/// from non-.NET producers, no MassTransit retry (HTTP retries and the breaker live in the delivery itself).
/// </summary>
internal sealed class WebhookDeliveryConsumerDefinition : ConsumerDefinition<WebhookDeliveryConsumer>
{
    private readonly int _concurrency;

    public WebhookDeliveryConsumerDefinition(IOptions<HokusaiWebhookOptions> options)
    {
        _concurrency = options.Value.Concurrency;
        EndpointName = HokusaiQueues.WebhookDelivery;
        ConcurrentMessageLimit = _concurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookDeliveryConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConfigureRawJson();
        // Messages waiting out a retry or an open breaker hold their slot (at most WEBHOOK_MAX_HOLD; longer waits
        // are in a delay queue); the rest stay ready in the queue.
        endpointConfigurator.PrefetchCount = _concurrency;
    }
}

internal static class EndpointPolicy
{
    /// <summary>
    /// Accept a bare JSON payload (no MassTransit envelope), as a Python producer sends it, with content type
    /// application/json or none at all; MassTransit's envelope keeps working for .NET producers.
    /// </summary>
    public static void ConfigureRawJson(this IReceiveEndpointConfigurator endpoint)
    {
        endpoint.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
        endpoint.ConfigureError(error =>
        {
            // Configuring the error pipe replaces MassTransit's default one, so its two filters are added back after ours.
            error.UseFilter(FieldNamingErrorFilter.Instance);
            error.UseFilter(new GenerateFaultFilter());
            error.UseFilter(new ErrorTransportFilter());
        });
    }
}
