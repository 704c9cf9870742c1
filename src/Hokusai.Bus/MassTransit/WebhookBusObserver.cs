using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus;

/// <summary>
/// What the webhook endpoints need from the bus's lifetime: when it starts, this host's temporary queue for the fleet's
/// breaker signals (<see cref="BreakerFleet"/>) is connected and its own signals start going out; when it stops, every
/// wait in the host is handed to RabbitMQ at once. The webhook endpoints themselves are configured with the bus
/// (<see cref="WebhookEndpointRegistration"/>).
/// </summary>
internal sealed class WebhookBusObserver(IServiceProvider services) : IBusObserver
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
        _endpoints = services.GetRequiredService<WebhookEndpointSet>();
        // This host's own temporary queue (auto-deleted, never a quorum queue) for the other hosts' breaker signals.
        var fleet = services.GetRequiredService<BreakerFleet>();
        var handle = bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition("hokusai-breaker"), KebabCaseEndpointNameFormatter.Instance,
            e => e.Consumer(() => new BreakerSignalConsumer(fleet)));
        await handle.Ready.ConfigureAwait(false);

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
