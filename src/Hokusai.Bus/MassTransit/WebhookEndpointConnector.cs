using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus;

/// <summary>
/// Connects a receive endpoint for each named webhook endpoint when the bus starts, on RabbitMQ and on the in-memory
/// test harness alike: queue <c>hokusai-webhook-delivery-&lt;name&gt;</c>, bound to the <c>ModelRegistered</c> exchange,
/// with the same <see cref="WebhookEndpointPolicy"/> as the default endpoint and the application's endpoint callbacks
/// (quorum queues, for example). MassTransit registers one endpoint per consumer type, so named endpoints, whose number
/// only configuration knows, are connected here rather than by <c>ConfigureEndpoints</c>. Also connects this host's
/// temporary queue for the fleet's breaker signals (<see cref="BreakerFleet"/>) and publishes its own.
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
        var handles = endpoints.Named.Select(endpoint => bus.ConnectReceiveEndpoint(endpoint.Queue, e =>
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
