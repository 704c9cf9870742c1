namespace Hokusai.Bus.TestSupport;

/// <summary>
/// The private three-node RabbitMQ cluster <c>scripts/cluster.sh</c> runs on loopback (hokusai-c1/c2/c3@localhost):
/// its nodes' ports (the script's <c>HOKUSAI_CLUSTER_*</c> variables, same defaults) and its faults, run through the
/// script, which knows each node's name, cookie and process.
/// </summary>
public static class RabbitMqCluster
{
    public static int AmqpPort(int node) => Services.Port("HOKUSAI_CLUSTER_AMQP_PORT", 5701) + node - 1;

    public static Uri ManagementUrl(int node) => new($"http://127.0.0.1:{Services.Port("HOKUSAI_CLUSTER_MANAGEMENT_PORT", 15701) + node - 1}/");

    /// <summary>RABBITMQ_URL naming all three nodes, for <paramref name="virtualHost"/>.</summary>
    public static string AmqpUrl(string virtualHost) =>
        $"amqp://guest:guest@{string.Join(',', Enumerable.Range(1, 3).Select(n => $"127.0.0.1:{AmqpPort(n)}"))}/{Uri.EscapeDataString(virtualHost)}";

    /// <summary>One node's own URL (a producer connected to a node that survives).</summary>
    public static Uri NodeUrl(int node, string virtualHost) =>
        new($"amqp://guest:guest@127.0.0.1:{AmqpPort(node)}/{Uri.EscapeDataString(virtualHost)}");

    /// <summary>Why a cluster test cannot run here, or null: in CI the cluster must be up, so a missing one fails the test.</summary>
    public static string? SkipReason => Services.InCi || Services.Answers(AmqpPort(1))
        ? null
        : "no RabbitMQ cluster on 127.0.0.1:" + AmqpPort(1) + " (bash scripts/cluster.sh start && bash scripts/cluster.sh wait)";

    /// <summary><c>kill -9</c> of node <paramref name="node"/>'s Erlang VM, as a crash would.</summary>
    public static Task KillAsync(int node) => RunAsync("kill", $"{node}");

    /// <summary>Starts node <paramref name="node"/> again and waits until it runs in the cluster.</summary>
    public static Task RestartAsync(int node) => RunAsync("restart", $"{node}");

    /// <summary>The node (1, 2 or 3) leading quorum queue <paramref name="queue"/>.</summary>
    public static async Task<int> LeaderAsync(string queue, string virtualHost)
    {
        var leader = (await RunAsync("leader", queue, virtualHost)).Trim();
        return leader.Contains("hokusai-c1", StringComparison.Ordinal) ? 1 : leader.Contains("hokusai-c2", StringComparison.Ordinal) ? 2 : 3;
    }

    private static Task<string> RunAsync(params string[] arguments) => RabbitMqBroker.RunScriptAsync("cluster.sh", arguments);
}

/// <summary>A fact that needs the three-node cluster; see <see cref="RabbitMqCluster"/>.</summary>
public sealed class ClusterFactAttribute : Xunit.FactAttribute
{
    public ClusterFactAttribute() => Skip = RabbitMqCluster.SkipReason;
}
