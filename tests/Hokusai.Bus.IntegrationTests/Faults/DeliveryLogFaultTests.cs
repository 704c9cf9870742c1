using Hokusai.Bus.Operations;
using Hokusai.Bus.Operations.DeliveryLog;
using Hokusai.Bus.TestSupport;
using RabbitMQ.Client;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// The delivery log under faults: the node leading its stream killed on the three-node cluster, and RabbitMQ stopped for
/// a minute under a host that keeps delivering what it holds.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DeliveryLogFaultTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [ClusterFact]
    public async Task The_log_stays_readable_when_the_node_leading_its_stream_dies_and_keeps_what_is_written_after()
    {
        var vhost = $"hokusai-log-{Guid.NewGuid():N}";
        using var management = new ManagementApi(RabbitMqCluster.ManagementUrl(3), "guest", "guest", vhost, TimeSpan.FromSeconds(30));
        await management.CreateVirtualHostAsync("guest");
        int? killed = null;
        try
        {
            var before = Enumerable.Range(0, 100).Select(i => $"before-{i}").ToList();
            await WriteAllAsync(AnyNode(vhost), before);
            var leader = await RabbitMqCluster.LeaderAsync(DeliveryLogStream.DefaultName, vhost);
            await RabbitMqCluster.KillAsync(leader);
            killed = leader;
            var survivor = leader == 1 ? 2 : 1;

            // A host reconnects to a node that is up and goes on writing; the stream elects a new leader meanwhile.
            var after = Enumerable.Range(0, 100).Select(i => $"after-{i}").ToList();
            await WriteAllAsync(Node(survivor, vhost), after);
            var read = new List<DeliveryRecord>();
            await foreach (var record in new DeliveryLogReader(Node(survivor, vhost)).ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
            {
                read.Add(record);
            }

            Assert.NotEqual(leader, await RabbitMqCluster.LeaderAsync(DeliveryLogStream.DefaultName, vhost));
            Assert.Equal(before.Concat(after).Order(), read.Select(r => r.Key).Distinct().Order());
        }
        finally
        {
            if (killed is { } node)
            {
                await RabbitMqCluster.RestartAsync(node);
            }

            await management.DeleteVirtualHostAsync(CancellationToken.None);
        }
    }

    [RabbitFact]
    public async Task RabbitMQ_stopped_for_a_minute_mid_stream_loses_no_delivery_and_every_record_lost_is_counted()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(20)));
        var host = await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "8" });
        var keys = Enumerable.Range(0, 600).Select(i => $"outage-{i}-{Guid.NewGuid():N}").ToList();

        await using var publisher = new ConfirmingPublisher(scenario.Rabbit.AmqpUrl);
        var publishing = Task.Run(async () =>
        {
            foreach (var key in keys)
            {
                await publisher.PublishAsync(Payloads.Registration(key), Wait); // retries through the outage
            }
        });
        await scenario.Receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= 150, Wait, "150 delivered before the outage");
        await RabbitMqBroker.RabbitMqCtlAsync("stop_app");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(60)); // the outage's length: a minute without the broker
        }
        finally
        {
            await RabbitMqBroker.RabbitMqCtlAsync("start_app");
        }

        await publishing.WaitAsync(Wait);
        await scenario.Receiver.WaitUntilAsync(r => keys.All(r.AcceptedKeys.Contains), Wait, "all 600 delivered");

        // Every delivery's outcome is in the log, or counted as dropped: the count covers all that is missing.
        var logged = new HashSet<string>();
        await RabbitMqManagement.Eventually(async () =>
        {
            try
            {
                logged = [.. (await DeliveryLogTests.ReadAllAsync(scenario)).Where(r => r.Kind == DeliveryRecordKind.Delivered).Select(r => r.Key)];
            }
            catch (DeliveryLogUnavailableException e) when (e.Exists)
            {
                return false; // the stream's node is still starting after the restart
            }

            var dropped = await HostMetrics.ReadAsync(host, "hokusai_delivery_log_dropped_total");
            return keys.Count(k => !logged.Contains(k)) <= dropped;
        }, Wait, "every missing record counted as dropped");
        Assert.True(host.Output.Split('\n').Count(l => l.Contains("were not written to hokusai-delivery-log", StringComparison.Ordinal)) <= 1,
            "the loss is said once per outage");
        Assert.True(logged.Count >= keys.Count / 2, $"only {logged.Count} of {keys.Count} outcomes were logged");
    }

    private static Func<CancellationToken, Task<IConnection>> AnyNode(string vhost) => token =>
        new ConnectionFactory { UserName = "guest", Password = "guest", VirtualHost = vhost }
            .CreateConnectionAsync(Enumerable.Range(1, 3).Select(n => new AmqpTcpEndpoint("127.0.0.1", RabbitMqCluster.AmqpPort(n))).ToList(), token);

    private static Func<CancellationToken, Task<IConnection>> Node(int node, string vhost) => token =>
        new ConnectionFactory { Uri = RabbitMqCluster.NodeUrl(node, vhost) }.CreateConnectionAsync(token);

    /// <summary>
    /// Writes a record for each key, all of them again until one pass is confirmed whole (records dropped while a leader is
    /// elected are written anew; the test counts distinct keys).
    /// </summary>
    private static async Task WriteAllAsync(Func<CancellationToken, Task<IConnection>> connect, IReadOnlyList<string> keys)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            await using var writer = new DeliveryLogWriter(connect, new DeliveryLogStream());
            foreach (var key in keys)
            {
                writer.TryWrite(new DeliveryRecord { Kind = DeliveryRecordKind.Delivered, At = DateTimeOffset.UtcNow, Key = key, Host = "test" });
            }

            await writer.FlushAndStopAsync(TimeSpan.FromSeconds(15));
            if (writer.Written == keys.Count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the records were not written within {Wait.TotalSeconds} s");
            await Task.Delay(500);
        }
    }
}
