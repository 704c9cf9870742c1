using MassTransit;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>
/// Logs a warning and counts <c>hokusai_endpoint_faults</c> whenever a receive endpoint faults, which is what ops see
/// when RabbitMQ closes a channel (for example an acknowledgement timeout); MassTransit reconnects by itself.
/// </summary>
internal sealed class EndpointFaultObserver(ILogger<EndpointFaultObserver> logger, HokusaiBusMetrics metrics) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        metrics.EndpointFaulted();
        Log.EndpointFaulted(logger, faulted.InputAddress.AbsolutePath.TrimStart('/'),
            Contracts.SafeText.Of(faulted.Exception?.GetBaseException().Message, 300));
        return Task.CompletedTask;
    }
}
