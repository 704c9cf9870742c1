using System.Diagnostics;
using System.Globalization;
using Hokusai.Bus.Operations.DeliveryLog;
using Hokusai.Bus.TestSupport;
using RabbitMQ.Client;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The delivery log's costs, against the same work without it in the same run:
/// <list type="bullet">
/// <item>host CPU per delivery and msg/s with <c>DELIVERY_LOG=false</c> and with the log on (the default), alternated
/// off, on, off, on so that drift on a shared machine shows;</item>
/// <item>reading a stream of 1,000,000 records: <c>deliveries --key</c> (one timeline, the whole window read) and
/// <c>deliveries stats --since 24h</c>, with the CLI's own code.</item>
/// </list>
/// </summary>
internal static class DeliveryLogBenchmark
{
    private const string Secret = "bench-secret-not-a-real-one";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 20_000;
        var records = 1_000_000;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--count":
                    count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--records":
                    records = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine("usage: deliverylog [--count N] [--records N]");
                    return 2;
            }
        }

        if (Services.RabbitMqSkipReason is { } skip)
        {
            Console.Error.WriteLine(skip);
            return 3;
        }

        var payload = new Payload(1024);
        await using var receiver = await BenchReceiver.StartAsync(Secret);
        Console.WriteLine($"[delivery log] {payload.Label}, concurrency 16, {count} deliveries per run");
        var runs = new List<(bool On, double Rate, double HostMicros, double PacedMicros, long Written)>();
        foreach (var on in new[] { false, true, false, true })
        {
            var run = await DeliverAsync(receiver, payload, count, on);
            runs.Add(run);
            Console.WriteLine($"  log {(on ? "on " : "off")}  {run.Rate,8:N0}/s   host {run.HostMicros,5:N0} µs CPU/delivery saturated, "
                              + $"{run.PacedMicros,5:N0} µs paced at {PacedRate:N0}/s   {run.Written:N0} records read back");
        }

        double Mean(bool on, Func<(bool On, double Rate, double HostMicros, double PacedMicros, long Written), double> of) =>
            runs.Where(r => r.On == on).Average(of);
        var (offCpu, onCpu) = (Mean(false, r => r.HostMicros), Mean(true, r => r.HostMicros));
        var (offPaced, onPaced) = (Mean(false, r => r.PacedMicros), Mean(true, r => r.PacedMicros));
        var (offRate, onRate) = (Mean(false, r => r.Rate), Mean(true, r => r.Rate));

        Console.WriteLine($"[delivery log] reading a stream of {records:N0} records");
        var (keyMs, statsMs, found) = await ReadAsync(records);

        Console.WriteLine();
        Console.WriteLine($"| delivery log, 1 KB, concurrency 16 | msg/s (saturated) | host CPU per delivery, saturated | host CPU per delivery, paced at {PacedRate:N0}/s |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| off (DELIVERY_LOG=false), mean of 2 | {offRate:N0} | {offCpu:N0} µs | {offPaced:N0} µs |");
        Console.WriteLine($"| on (default), mean of 2 | {onRate:N0} | {onCpu:N0} µs | {onPaced:N0} µs |");
        Console.WriteLine($"| ratio on / off | {onRate / offRate:0.00}x | {onCpu / offCpu:0.00}x | {onPaced / offPaced:0.00}x |");
        Console.WriteLine();
        Console.WriteLine($"| over {records:N0} records | time |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| deliveries --key (one timeline of {found} records) | {keyMs / 1000:0.0} s |");
        Console.WriteLine($"| deliveries stats --since 24h | {statsMs / 1000:0.0} s |");
        return 0;
    }

    /// <summary>The paced rate CPU is also measured at: well under capacity, so the machine's two cores are not contended.</summary>
    private const double PacedRate = 1_000;

    private static async Task<(bool On, double Rate, double HostMicros, double PacedMicros, long Written)> DeliverAsync(
        BenchReceiver receiver, Payload payload, int count, bool on)
    {
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), 16,
            new Dictionary<string, string> { ["DELIVERY_LOG"] = on ? "true" : "false" });
        try
        {
            await using var publisher = await AmqpPublisher.ConnectAsync(vhost.AmqpUrl, "bench publisher");
            Task<Phase> Publish(int n, double? perSecond = null) =>
                E2eBenchmark.PublishPhaseAsync(publisher, receiver, payload, n, 256, perSecond, () => host.OutputTail());
            await E2eBenchmark.WarmUpAsync(() => Publish(Math.Min(count, 3_000)), TimeSpan.FromSeconds(6));
            var cpu = host.CpuTime();
            var phase = await Publish(count);
            var micros = (host.CpuTime() - cpu).TotalMilliseconds * 1000 / count;
            var pacedCount = (int)(PacedRate * 10);
            cpu = host.CpuTime();
            await Publish(pacedCount, PacedRate);
            var paced = (host.CpuTime() - cpu).TotalMilliseconds * 1000 / pacedCount;
            await host.StopAsync();
            var written = on ? await CountAsync(vhost.AmqpUrl) : 0;
            return (on, phase.Rate(), micros, paced, written);
        }
        finally
        {
            receiver.Phase = null;
            await host.DisposeAsync();
        }
    }

    private static async Task<long> CountAsync(Uri amqp)
    {
        long n = 0;
        await foreach (var _ in new DeliveryLogReader(Connect(amqp)).ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
        {
            n++;
        }

        return n;
    }

    /// <summary>Writes <paramref name="records"/> records (10 per delivery, 100,000 deliveries per million), then times the two reads.</summary>
    private static async Task<(double KeyMs, double StatsMs, int Found)> ReadAsync(int records)
    {
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench-log");
        var connect = Connect(vhost.AmqpUrl);
        var writing = Stopwatch.StartNew();
        await using (var writer = new DeliveryLogWriter(connect, new DeliveryLogStream(), capacity: 100_000))
        {
            var start = DateTimeOffset.UtcNow.AddHours(-12);
            for (var i = 0; i < records; i++)
            {
                var record = new DeliveryRecord
                {
                    Kind = (i % 10) switch { 9 => DeliveryRecordKind.Delivered, 8 => DeliveryRecordKind.Attempt, _ => DeliveryRecordKind.Attempt },
                    At = start.AddMilliseconds(i * 40.0),
                    Key = $"key-{i / 10}",
                    ModelId = $"model-{i / 10 % 1000}",
                    Endpoint = (i / 10 % 3) switch { 0 => "default", 1 => "token", _ => "site" },
                    Host = "bench/1",
                    Attempt = i % 10 + 1,
                    Status = 200,
                    Outcome = "HTTP 200 (OK)",
                    LatencyMs = 3.5,
                };
                while (!writer.TryWrite(record))
                {
                    await Task.Delay(1); // the benchmark waits for room; a host would drop and count
                }
            }

            await writer.FlushAndStopAsync(TimeSpan.FromMinutes(5));
            Console.WriteLine($"  wrote {writer.Written:N0} records in {writing.Elapsed.TotalSeconds:0} s ({writer.Dropped:N0} dropped)");
        }

        var reader = new DeliveryLogReader(connect);
        var since = DateTimeOffset.UtcNow.AddHours(-24);
        var key = Stopwatch.StartNew();
        var timelines = await new DeliveryQuery { Key = $"key-{records / 20}", Since = since }.ApplyAsync(reader.ReadAsync(since));
        key.Stop();
        var stats = Stopwatch.StartNew();
        var byEndpoint = await EndpointStats.OfAsync(reader.ReadAsync(since));
        stats.Stop();
        Console.WriteLine($"  deliveries --key: {timelines.Sum(t => t.Records.Count)} records in {key.Elapsed.TotalSeconds:0.0} s; "
                          + $"stats: {byEndpoint.Sum(s => s.Delivered):N0} delivered over {byEndpoint.Count} endpoints in {stats.Elapsed.TotalSeconds:0.0} s");
        return (key.Elapsed.TotalMilliseconds, stats.Elapsed.TotalMilliseconds, timelines.Sum(t => t.Records.Count));
    }

    private static Func<CancellationToken, Task<IConnection>> Connect(Uri amqp) => token =>
        new ConnectionFactory { Uri = amqp, ClientProvidedName = "bench delivery log" }.CreateConnectionAsync(token);
}
