using System.Diagnostics;
using System.Globalization;
using Hokusai.Bus.Operations;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// Two hosts on the three-node cluster of <c>scripts/cluster.sh</c>, every queue a quorum queue, 2,000 registrations
/// published with confirms through a node that stays up, while (a) the node leading the delivery queue (and holding
/// both hosts' connections) is killed with <c>kill -9</c> and later restarted, and (b) the receiver answers 503 for
/// several recovery periods. Every registration is delivered, none is in any <c>_error</c> queue, duplicates carry the
/// same key, and the receiver's request log shows one breaker for the fleet: the failures that open it, then one
/// trial per recovery period across both hosts.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class ClusterTests(FaultReport report)
{
    private const int Count = 2_000;
    private const int Threshold = 5;
    private const int Concurrency = 8;
    private const string Queue = "hokusai-webhook-delivery";
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReceiverDown = TimeSpan.FromSeconds(11);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [ClusterFact]
    public async Task Two_hosts_lose_nothing_when_the_leading_node_dies_and_hold_one_breaker_while_the_receiver_is_down()
    {
        var took = Stopwatch.StartNew();
        var vhost = $"hokusai-cluster-{Guid.NewGuid():N}";
        using var management = new ManagementApi(RabbitMqCluster.ManagementUrl(3), "guest", "guest", vhost, TimeSpan.FromSeconds(30));
        await management.CreateVirtualHostAsync("guest");
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync(Scenario.Secret);
            var down = false;
            receiver.Respond = _ => ValueTask.FromResult(
                Volatile.Read(ref down) ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
            var settings = new Dictionary<string, string>
            {
                ["RABBITMQ_URL"] = RabbitMqCluster.AmqpUrl(vhost),
                ["RABBITMQ_QUORUM_QUEUES"] = "true",
                ["WEBHOOK_URL"] = receiver.Url.ToString(),
                ["WEBHOOK_SECRET"] = Scenario.Secret,
                ["WEBHOOK_RETRY_DELAY"] = "0.05",
                ["WEBHOOK_TIMEOUT"] = "5",
                ["WEBHOOK_CONCURRENCY"] = $"{Concurrency}",
                ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = $"{Threshold}",
                ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "2",
            };
            await using var first = await HostProcess.StartAsync(settings);
            await using var second = await HostProcess.StartAsync(settings);
            await RabbitMqManagement.Eventually(async () => (await management.QueueAsync(Queue))?["consumers"]?.GetValue<long>() == 2,
                Wait, "both hosts consuming");
            Assert.Equal("quorum", (await management.QueueAsync(Queue))?["type"]?.ToString());

            // (a) Publish through a node that stays up; kill the node that leads the queue once deliveries are under way.
            var leader = await RabbitMqCluster.LeaderAsync(Queue, vhost);
            var survivor = leader == 3 ? 2 : 3;
            using var surviving = new ManagementApi(RabbitMqCluster.ManagementUrl(survivor), "guest", "guest", vhost, TimeSpan.FromSeconds(30));
            var keys = Enumerable.Range(0, Count).Select(_ => Guid.NewGuid().ToString()).ToList();
            await using var publisher = new ConfirmingPublisher(RabbitMqCluster.NodeUrl(survivor, vhost));
            var publishing = PublishAsync(publisher, keys.Take(1_200));
            await receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= 300, Wait, "300 delivered before the kill");
            await RabbitMqCluster.KillAsync(leader);
            var deliveredAtKill = receiver.AcceptedKeys.Count;
            await receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= deliveredAtKill + 300, Wait, "300 more delivered with the node dead");
            var newLeader = await RabbitMqCluster.LeaderAsync(Queue, vhost);
            Assert.NotEqual(leader, newLeader);

            foreach (var host in new[] { first, second })
            {
                Assert.NotEqual($"127.0.0.1:{RabbitMqCluster.AmqpPort(leader)}", await NodeOfAsync(host));
            }

            // What the management UI shows meanwhile: the queue led from another node, one consumer per host again, and
            // the lost node still a member but not online.
            await RabbitMqManagement.Eventually(async () => await surviving.QueueAsync(Queue) is { } q
                && q["consumers"]?.GetValue<long>() == 2 && q["members"]?.AsArray().Count == 3 && q["online"]?.AsArray().Count == 2,
                Wait, "2 consumers, 3 members, 2 online");
            Assert.Equal(new[] { false }, await RunningAsync(survivor, $"hokusai-c{leader}@localhost")); // Overview: the node not running
            await RabbitMqCluster.RestartAsync(leader);
            await RabbitMqManagement.Eventually(async () => (await surviving.QueueAsync(Queue))?["online"]?.AsArray().Count == 3,
                Wait, "the restarted node a member online again");
            Assert.Equal(newLeader, await RabbitMqCluster.LeaderAsync(Queue, vhost)); // leaders do not move back

            // (b) The receiver down for several recovery periods while the other 800 are published (the outage is the
            // fault, so it is timed, not awaited).
            await publishing;
            await receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= 1_200, Wait, "the first 1,200 delivered before the outage");
            Volatile.Write(ref down, true);
            var downAt = DateTimeOffset.UtcNow;
            await PublishAsync(publisher, keys.Skip(1_200));
            await Task.Delay(ReceiverDown - (DateTimeOffset.UtcNow - downAt));
            var upAt = DateTimeOffset.UtcNow;
            Volatile.Write(ref down, false);

            await receiver.WaitUntilAsync(r => keys.All(r.AcceptedCounts.ContainsKey), Wait, "every registration delivered");

            // Accounting: every key delivered, duplicates only ever a key delivered again, nothing in any _error queue.
            var counts = receiver.AcceptedCounts;
            var duplicates = keys.Sum(k => counts[k] - 1);
            Assert.Equal(Count, counts.Count);
            var queues = await management.QueuesAsync();
            var errors = queues.Where(q => q.Key.EndsWith("_error", StringComparison.Ordinal)).Sum(q => q.Value);
            Assert.Equal(0, errors);
            foreach (var (name, _) in queues.Where(q => q.Key.StartsWith(Queue, StringComparison.Ordinal)))
            {
                Assert.Equal("quorum", (await management.QueueAsync(name))?["type"]?.ToString()); // delay and _error queues too
            }

            // The fleet's breaker: the failures that open it, then one trial per recovery period across both hosts.
            var failed = receiver.Requests.Where(r => r.StatusReturned == 503).Select(r => r.ReceivedAt).Order().ToList();
            var opening = failed.TakeWhile(t => t < failed[0] + TimeSpan.FromSeconds(1)).Count();
            var trials = failed.Skip(opening).ToList();
            var periods = (int)Math.Ceiling((upAt - downAt) / Recovery);
            Assert.True(opening >= Threshold && opening <= Threshold + (2 * Concurrency),
                $"{opening} failed requests before the fleet's breaker opened; the threshold, plus at most what was in flight");
            Assert.True(trials.Count <= periods && trials.Count >= periods - 2, $"{trials.Count} trials in {periods} recovery periods");
            for (var i = 1; i < trials.Count; i++)
            {
                Assert.True(trials[i] - trials[i - 1] >= Recovery * 0.9,
                    $"two trials {(trials[i] - trials[i - 1]).TotalSeconds:0.00} s apart: each host tried on its own");
            }

            report.Add(new FaultRow(
                string.Create(CultureInfo.InvariantCulture,
                    $"cluster, 2 hosts: leader node kill -9 and restarted, receiver down {ReceiverDown.TotalSeconds:0} s (breaker: {opening} failures to open, then {trials.Count} trials in {periods} periods of {Recovery.TotalSeconds:0} s; {took.Elapsed.TotalSeconds:0} s)"),
                Count, counts.Count, duplicates, (int)errors, Count - counts.Count));
        }
        finally
        {
            await management.DeleteVirtualHostAsync();
        }
    }

    private static async Task PublishAsync(ConfirmingPublisher publisher, IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            await publisher.PublishAsync(Payloads.Registration(key), Wait);
        }
    }

    /// <summary>Whether the management API (Overview, Nodes) says node <paramref name="name"/> is running.</summary>
    private static async Task<bool[]> RunningAsync(int askedNode, string name)
    {
        using var http = new HttpClient { BaseAddress = RabbitMqCluster.ManagementUrl(askedNode) };
        http.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8));
        var nodes = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("api/nodes"))!.AsArray();
        return [.. nodes.Where(n => n?["name"]?.ToString() == name).Select(n => n!["running"]!.GetValue<bool>())];
    }

    /// <summary>The node a host says it is connected to (<c>/health/ready</c>'s header), once it says one.</summary>
    private static async Task<string> NodeOfAsync(HostProcess host)
    {
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        string? node = null;
        await RabbitMqManagement.Eventually(async () =>
        {
            using var response = await http.GetAsync("health/ready");
            node = response.Headers.TryGetValues("Hokusai-RabbitMQ-Node", out var values) ? values.First() : null;
            return response.IsSuccessStatusCode && node is not null && node != "none";
        }, Wait, "the host ready on a node");
        return node!;
    }
}
