using MassTransit;
using MassTransit.RabbitMqTransport;

namespace Hokusai.Bus.Host;

/// <summary>On each channel a receive endpoint opens, records which node its connection reached (<see cref="BrokerNode"/>).</summary>
internal sealed class BrokerNodeFilter(BrokerNode node) : IFilter<ChannelContext>
{
    public Task Send(ChannelContext context, IPipe<ChannelContext> next)
    {
        var endpoint = context.ConnectionContext.Connection.Endpoint;
        node.ConnectedTo($"{endpoint.HostName}:{endpoint.Port}");
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("hokusai-broker-node");
}
