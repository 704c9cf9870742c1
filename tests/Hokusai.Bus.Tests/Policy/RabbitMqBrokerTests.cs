using Hokusai.Bus.Host;

namespace Hokusai.Bus.Tests.Policy;

/// <summary><c>RABBITMQ_URL</c> naming one node or the nodes of a cluster.</summary>
public sealed class RabbitMqBrokerTests
{
    [Fact]
    public void A_cluster_is_its_nodes_comma_separated_with_one_user_password_and_vhost()
    {
        Assert.True(RabbitMqBroker.TryParse("amqp://hokusai:s3cret@node1:5701,node2:5702,node3/prod", null, out var broker));

        Assert.Equal([("node1", (ushort)5701), ("node2", (ushort)5702), ("node3", (ushort)5672)], broker.Nodes);
        Assert.Equal(("hokusai", "s3cret", "prod", false), (broker.User, broker.Password, broker.VirtualHost, broker.UseSsl));
        Assert.Equal("amqp://hokusai:***@node1:5701,node2:5702,node3:5672/prod", broker.Shown);
    }

    [Theory]
    [InlineData("amqp://guest:guest@localhost:5672/", "localhost", 5672, "/", "guest")]
    [InlineData("amqps://rabbit.internal/", "rabbit.internal", 5671, "/", "guest")]
    [InlineData("amqp://svc@10.0.0.5:5800/%2Fteam", "10.0.0.5", 5800, "/team", "svc")]
    [InlineData("amqp://u:p@[::1]:5701,[::1]:5702", "[::1]", 5701, "/", "u")]
    public void One_node_reads_as_before(string url, string host, int port, string vhost, string user)
    {
        Assert.True(RabbitMqBroker.TryParse(url, null, out var broker));

        Assert.Equal((host, (ushort)port, vhost, user), (broker.Nodes[0].Host, broker.Nodes[0].Port, broker.VirtualHost, broker.User));
    }

    [Fact]
    public void RABBITMQ_PASSWORD_replaces_the_urls_password_and_is_never_shown()
    {
        Assert.True(RabbitMqBroker.TryParse("amqp://hokusai:in-the-url@n1,n2/", "from-the-variable", out var broker));

        Assert.Equal("from-the-variable", broker.Password);
        Assert.DoesNotContain("from-the-variable", broker.Shown, StringComparison.Ordinal);
        Assert.DoesNotContain("in-the-url", broker.Shown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://rabbit:5672/")]
    [InlineData("amqp://")]
    [InlineData("amqp://node1,,node3/")]
    [InlineData("amqp://node1:99999/")]
    [InlineData("amqp://user@/vhost")]
    [InlineData("rabbit:5672")]
    public void Anything_else_is_refused(string url) =>
        Assert.False(RabbitMqBroker.TryParse(url, null, out _));
}
