using MassTransit;
using MassTransit.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// One webhook endpoint as MassTransit's <c>ConfigureEndpoints</c> sees it: an endpoint registration of its own, so every
/// webhook endpoint, the default one included, is configured by one path when the bus is built (before it starts, so a
/// message published at once is queued), on RabbitMQ and on the in-memory test harness alike. MassTransit registers one
/// endpoint per consumer type, and only configuration knows how many webhook endpoints there are, so each is a
/// registration rather than a <c>ConsumerDefinition</c>: the one for place <paramref name="index"/> of
/// <see cref="WebhookEndpointSet.All"/>, left out of <c>ConfigureEndpoints</c> when no endpoint is there.
/// </summary>
internal sealed class WebhookEndpointRegistration(WebhookEndpointSet endpoints, int index) : IEndpointRegistration
{
    private readonly WebhookEndpoint? _endpoint = endpoints.All.ElementAtOrDefault(index);

    public Type Type => typeof(WebhookEndpointRegistration);

    public bool IncludeInConfigureEndpoints
    {
        get => field && _endpoint is not null;
        set;
    } = true;

    public IEndpointDefinition GetDefinition(IServiceProvider provider) =>
        new Definition(_endpoint ?? throw new InvalidOperationException($"No webhook endpoint is at place {index}."));

    /// <summary>
    /// The endpoint's queue (<c>hokusai-webhook-delivery</c>, <c>hokusai-webhook-delivery-&lt;name&gt;</c>), bound to the
    /// exchanges of what its consumer takes; after the application's endpoint callbacks, which <c>ConfigureEndpoints</c>
    /// applies first: <see cref="WebhookEndpointPolicy"/>, then its <see cref="WebhookDeliveryConsumer"/>.
    /// </summary>
    private sealed class Definition(WebhookEndpoint endpoint) : IEndpointDefinition
    {
        public bool IsTemporary => false;

        public int? PrefetchCount => endpoint.Settings.Concurrency;

        public int? ConcurrentMessageLimit => endpoint.Settings.Concurrency;

        public bool ConfigureConsumeTopology => true;

        public string GetEndpointName(IEndpointNameFormatter formatter) => endpoint.Queue;

        public void Configure<T>(T configurator, IRegistrationContext? context = null)
            where T : IReceiveEndpointConfigurator
        {
            ArgumentNullException.ThrowIfNull(context);
            WebhookEndpointPolicy.Apply(configurator, endpoint.Settings.Concurrency, context);
            var queues = QueueKind.Of(context);
            configurator.Consumer(() => new WebhookDeliveryConsumer(endpoint, queues));
        }
    }
}
