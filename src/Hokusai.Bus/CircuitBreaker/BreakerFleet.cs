using System.Collections.Concurrent;
using System.Threading.Channels;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Makes the breakers of every host that delivers to the same endpoint act as one, through RabbitMQ and nothing else.
/// Each breaker's news (<see cref="WebhookBreakerSignal"/>) is published from an outbox that never blocks a delivery;
/// each host hears the others' on its own temporary queue (<see cref="WebhookBusObserver"/>) and applies them to
/// the breaker of the same name. When the hosts cannot hear each other (the broker unreachable), each breaker goes on
/// alone, as with one host; signals that cannot be published are dropped, never retried late.
/// </summary>
internal sealed class BreakerFleet
{
    private readonly ConcurrentDictionary<string, WebhookCircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly Channel<WebhookBreakerSignal> _outbox = Channel.CreateBounded<WebhookBreakerSignal>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    /// <summary>This process among the hosts; also the order in which two hosts that opened at once decide who leads.</summary>
    public string HostId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Joins <paramref name="breaker"/> to the fleet under its endpoint's name.</summary>
    public void Add(string endpoint, WebhookCircuitBreaker breaker)
    {
        _breakers[endpoint] = breaker;
        breaker.TellTo((kind, openFor) => _outbox.Writer.TryWrite(new WebhookBreakerSignal(kind, endpoint, HostId, openFor)));
    }

    /// <summary>
    /// Applies another host's signal; this host's own come back too and are ignored, and so is one that names no host
    /// (never an exception: a bad signal must not fault into an error queue).
    /// </summary>
    public void Heard(WebhookBreakerSignal signal)
    {
        if (signal.Host is not { Length: > 0 } || signal.Host == HostId)
        {
            return;
        }

        if (signal.Kind == WebhookBreakerSignalKind.Asked)
        {
            foreach (var breaker in _breakers.Values)
            {
                breaker.Heard(signal.Kind, TimeSpan.Zero, senderLeads: false);
            }
        }
        else if (signal.Endpoint is not null && _breakers.TryGetValue(signal.Endpoint, out var breaker))
        {
            breaker.Heard(signal.Kind, signal.OpenFor, string.CompareOrdinal(signal.Host, HostId) < 0);
        }
    }

    /// <summary>Asks the fleet, then publishes the outbox until <paramref name="stopping"/>.</summary>
    public async Task RunAsync(IPublishEndpoint bus, CancellationToken stopping)
    {
        _outbox.Writer.TryWrite(new WebhookBreakerSignal(WebhookBreakerSignalKind.Asked, "", HostId, TimeSpan.Zero));
        try
        {
            await foreach (var signal in _outbox.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    await bus.Publish(signal, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    // The broker is unreachable: the other hosts will not hear this one, and each breaker acts alone.
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
