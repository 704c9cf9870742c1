using System.Globalization;
using Hokusai.Bus.Operations;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// <c>scale</c>: on the three-node cluster of <c>scripts/cluster.sh</c> with quorum queues, one host against two hosts
/// draining the same backlog, in one run, for a receiver that answers at once (the hosts' CPU is the limit) and one that
/// takes 20 ms (its latency times <c>WEBHOOK_CONCURRENCY</c> is the limit). Prints msg/s and two hosts' ratio to one.
/// </summary>
internal static class ScaleBenchmark
{
    private const string Secret = "bench-scale-secret";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count", 10_000);
        var concurrency = Option(args, "--concurrency", 16);
        await using var receiver = await BenchReceiver.StartAsync(Secret);
        Console.WriteLine($"[scale] cluster 127.0.0.1:{RabbitMqCluster.AmqpPort(1)}-{RabbitMqCluster.AmqpPort(3)}, quorum queues, "
                          + $"1 KB, WEBHOOK_CONCURRENCY={concurrency} per host; msg/s between 20 % and 80 % of the drain");
        Console.WriteLine("| receiver | messages | 1 host msg/s | 2 hosts msg/s | 2 hosts / 1 host |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (label, delay, n) in new[] { ("answers at once", TimeSpan.Zero, count), ("answers in 20 ms", TimeSpan.FromMilliseconds(20), count / 2) })
        {
            receiver.Delay = delay;
            var one = await DrainAsync(receiver, n, hosts: 1, concurrency);
            var two = await DrainAsync(receiver, n, hosts: 2, concurrency);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {n:N0} | {one:N0} | {two:N0} | {two / one:0.00}x |"));
        }

        return 0;
    }

    /// <summary>A backlog of <paramref name="count"/> published with the hosts stopped, then drained by <paramref name="hosts"/> hosts.</summary>
    private static async Task<double> DrainAsync(BenchReceiver receiver, int count, int hosts, int concurrency)
    {
        var vhost = $"hokusai-scale-{Guid.NewGuid():N}";
        using var management = new ManagementApi(RabbitMqCluster.ManagementUrl(1), "guest", "guest", vhost, TimeSpan.FromSeconds(30));
        await management.CreateVirtualHostAsync("guest");
        try
        {
            var quorum = new Dictionary<string, string> { ["RABBITMQ_QUORUM_QUEUES"] = "true" };
            var amqp = RabbitMqCluster.AmqpUrl(vhost); // the three nodes
            // The hosts declare the queue and its bindings; then they stop and the whole backlog is published.
            await using (var declaring = await HostRun.StartAsync(receiver.Url, Secret, amqp, concurrency, quorum))
            {
                await declaring.StopAsync();
            }

            var phase = new Phase(count);
            receiver.Phase = phase;
            await using (var publisher = await AmqpPublisher.ConnectAsync(RabbitMqCluster.NodeUrl(1, vhost), "bench scale publisher"))
            {
                await publisher.PublishAsync(AmqpPublisher.RegistrationsExchange, phase, seq => new Payload(1024).Body(phase.Id, seq), 256);
            }

            var runs = await Task.WhenAll(Enumerable.Range(0, hosts)
                .Select(_ => HostRun.StartAsync(receiver.Url, Secret, amqp, concurrency, quorum)));
            try
            {
                await phase.WaitAsync(TimeSpan.FromSeconds(60), () => string.Join("\n", runs.Select(r => r.OutputTail())));
            }
            finally
            {
                foreach (var run in runs)
                {
                    await run.DisposeAsync();
                }

                receiver.Phase = null;
            }

            return phase.SteadyRate();
        }
        finally
        {
            await management.DeleteVirtualHostAsync();
        }
    }

    private static int Option(string[] args, string name, int fallback) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
