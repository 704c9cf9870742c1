namespace Hokusai.Bus.Host;

/// <summary>
/// The RabbitMQ node this host is connected to (of the nodes in <c>RABBITMQ_URL</c>): shown by <c>/health/ready</c> in
/// its <c>Hokusai-RabbitMQ-Node</c> header, and logged each time it changes (a node lost, another taken).
/// </summary>
internal sealed class BrokerNode(ILogger<BrokerNode> logger)
{
    /// <summary>The header <c>/health/ready</c> names the node in.</summary>
    public const string Header = "Hokusai-RabbitMQ-Node";

    private string? _current;

    /// <summary><c>host:port</c>, or null before the first connection.</summary>
    public string? Current => Volatile.Read(ref _current);

    public void ConnectedTo(string node)
    {
        var previous = Interlocked.Exchange(ref _current, node);
        if (previous != node)
        {
            Log.BrokerNode(logger, node, previous ?? "none");
        }
    }
}
