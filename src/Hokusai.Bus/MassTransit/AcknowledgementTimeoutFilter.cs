using MassTransit;
using MassTransit.RabbitMqTransport;
using RabbitMQ.Client.Events;

namespace Hokusai.Bus;

/// <summary>
/// On each channel a webhook endpoint's consumer opens on RabbitMQ, watches how the broker closes it, and tells
/// <see cref="AcknowledgementTimeouts"/> when the reason is an acknowledgement timeout. MassTransit itself only logs
/// that at debug level and reconnects.
/// </summary>
internal sealed class AcknowledgementTimeoutFilter(AcknowledgementTimeouts timeouts, string queue) : IFilter<ChannelContext>
{
    public Task Send(ChannelContext context, IPipe<ChannelContext> next)
    {
        context.Channel.ChannelShutdownAsync += Closed;
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("hokusai-ack-timeout");

    private Task Closed(object sender, ShutdownEventArgs reason)
    {
        if (AcknowledgementTimeouts.Is(reason.ReplyCode, reason.ReplyText))
        {
            timeouts.ChannelClosed(queue);
        }

        return Task.CompletedTask;
    }
}
