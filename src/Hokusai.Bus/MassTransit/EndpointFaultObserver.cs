using MassTransit;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>
/// Logs a warning and counts <c>hokusai_endpoint_faults</c> whenever a receive endpoint faults; MassTransit reconnects by
/// itself. Not reaching the broker at all is only a debug line here: MassTransit logs it (and the Hokusai host names the
/// problem once). A channel closed for an acknowledgement timeout is <see cref="AcknowledgementTimeouts"/>' concern.
/// </summary>
internal sealed class EndpointFaultObserver(ILogger<EndpointFaultObserver> logger, HokusaiBusMetrics metrics) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        metrics.EndpointFaulted();
        var queue = faulted.InputAddress.AbsolutePath.TrimStart('/');
        var reason = Contracts.SafeText.Of(faulted.Exception?.GetBaseException().Message, 300);
        if (faulted.Exception is ConnectionException)
        {
            Log.EndpointDisconnected(logger, queue, reason);
        }
        else
        {
            Log.EndpointFaulted(logger, queue, reason);
        }

        return Task.CompletedTask;
    }
}
