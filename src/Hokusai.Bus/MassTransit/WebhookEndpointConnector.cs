using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus;

/// <summary>
/// The one path by which every webhook endpoint becomes a receive endpoint, the default one included: when the bus
/// starts, on RabbitMQ and on the in-memory test harness alike, each endpoint of <see cref="WebhookEndpointSet"/> is
/// connected on its queue (<c>hokusai-webhook-delivery</c>, <c>hokusai-webhook-delivery-&lt;name&gt;</c>), bound to the
/// <c>ModelRegistered</c> exchange, with the application's endpoint callbacks (as <c>ConfigureEndpoints</c> applies
/// them), then <see cref="WebhookEndpointPolicy"/>, then its <see cref="WebhookDeliveryConsumer"/>. MassTransit's
/// <c>ConfigureEndpoints</c> makes one endpoint per consumer type, and only configuration knows how many endpoints there
/// are, so none is a consumer definition. Also connects this host's temporary queue for the fleet's breaker signals
/// (<see cref="BreakerFleet"/>) and publishes its own.
/// </summary>
internal sealed class WebhookEndpointConnector(IServiceProvider services) : IBusObserver
{
    public void PostCreate(IBus bus)
    {
    }

    public void CreateFaulted(Exception exception)
    {
    }

    public Task PreStart(IBus bus) => Task.CompletedTask;

    /// <summary>Resolved when the bus starts: by the time it stops, a disposed service provider resolves nothing.</summary>
    private WebhookEndpointSet? _endpoints;

    /// <summary>Stops publishing this host's breaker signals when the bus stops.</summary>
    private readonly CancellationTokenSource _stopping = new();

    public async Task PostStart(IBus bus, Task<BusReady> busReady)
    {
        var endpoints = _endpoints = services.GetRequiredService<WebhookEndpointSet>();
        // The application's AddConfigureEndpointsCallback callbacks (quorum queues, for example), as ConfigureEndpoints applies them.
        var callbacks = services.GetRequiredService<IBusRegistrationContext>().GetConfigureReceiveEndpoints();
        var queues = services.GetRequiredService<QueueKind>();
        var handles = endpoints.All.Select(endpoint => bus.ConnectReceiveEndpoint(endpoint.Queue, e =>
        {
            callbacks.Configure(endpoint.Queue, e);

            WebhookEndpointPolicy.Apply(e, endpoint.Settings.Concurrency, services);
            e.Consumer(() => new WebhookDeliveryConsumer(endpoint, queues));
        })).ToList();
        // This host's own temporary queue (auto-deleted, never a quorum queue) for the other hosts' breaker signals.
        var fleet = services.GetRequiredService<BreakerFleet>();
        handles.Add(bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition("hokusai-breaker"), KebabCaseEndpointNameFormatter.Instance,
            e => e.Consumer(() => new BreakerSignalConsumer(fleet))));
        foreach (var handle in handles)
        {
            await handle.Ready.ConfigureAwait(false);
        }

        _ = fleet.RunAsync(bus, _stopping.Token);
    }

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public Task PreStop(IBus bus)
    {
        _endpoints?.BusStopping();
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    public Task PostStop(IBus bus) => Task.CompletedTask;

    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
