using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>The names producers and ops depend on do not move when code is refactored.</summary>
public sealed class TopologyTests
{
    [Fact]
    public void MassTransit_names_the_RabbitMQ_exchange_of_ModelRegistered_as_the_published_constant()
    {
        // Python producers publish to this exchange by name and existing queues are bound to it: renaming or moving
        // the contract type would change MassTransit's name and strand both, so this fails first.
        var topology = RabbitMqBusFactory.CreateMessageTopology();

        Assert.Equal(HokusaiNames.ModelRegisteredExchange, topology.GetMessageTopology<ModelRegistered>().EntityName);
        Assert.Equal("Hokusai.Bus.Contracts:ModelRegistered", HokusaiNames.ModelRegisteredExchange);
    }
}
