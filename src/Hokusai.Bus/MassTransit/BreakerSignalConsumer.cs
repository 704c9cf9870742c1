using MassTransit;

namespace Hokusai.Bus;

/// <summary>Hears the other hosts' breaker signals, on this host's own temporary queue.</summary>
internal sealed class BreakerSignalConsumer(BreakerFleet fleet) : IConsumer<WebhookBreakerSignal>
{
    public Task Consume(ConsumeContext<WebhookBreakerSignal> context)
    {
        fleet.Heard(context.Message);
        return Task.CompletedTask;
    }
}
