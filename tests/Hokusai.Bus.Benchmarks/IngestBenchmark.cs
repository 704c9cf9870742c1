using System.Diagnostics;
using System.Globalization;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// <c>POST /ingest</c> (issue #22): registrations POSTed to the host at a fixed concurrency, each answered 202 after
/// RabbitMQ's confirm and then delivered to the receiver, against raw HTTP POSTs of the same body to the same receiver
/// in the same run. Prints POST-to-2xx p50/p99 and ingest-to-receiver msg/s, and their ratios to the baseline.
/// </summary>
internal static class IngestBenchmark
{
    private const string Secret = "bench-secret-not-a-real-one";
    private const string IngestSecret = "bench-ingest-secret";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 10_000;
        var concurrency = 16;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--count":
                    count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrency = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine("usage: ingest [--count N] [--concurrency C]");
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
        Console.WriteLine($"[ingest] {payload.Label}, concurrency {concurrency}, {count} registrations");

        var raw = await RawHttpBaseline.RunAsync(receiver, payload, concurrency, count, Secret);
        Console.WriteLine($"  raw HTTP POST to the receiver   {raw.PerSecond,8:N0}/s   p50 {raw.Latency.P50:0.00} ms, p99 {raw.Latency.P99:0.00} ms");

        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        await using var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), 32,
            new Dictionary<string, string> { ["INGEST_SECRET"] = IngestSecret });
        using var client = RawHttpBaseline.HostLikeClient(concurrency);
        var ingestUrl = new Uri(host.BaseUrl, "ingest");
        var signer = new WebhookSigner(IngestSecret, SignatureFormat.Sha256Prefixed);

        async Task<(Phase Phase, List<double> AnsweredMs)> Run(int n)
        {
            var phase = new Phase(n);
            receiver.Phase = phase;
            var answered = new double[n];
            var next = -1;

            async Task Worker()
            {
                int seq;
                while ((seq = Interlocked.Increment(ref next)) < n)
                {
                    var body = payload.Body(phase.Id, seq);
                    using var request = RawHttpBaseline.Post(ingestUrl, body, signer.Sign(body), phase.KeyOf(seq));
                    phase.MarkSent(seq);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    answered[seq] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
            await phase.WaitAsync(TimeSpan.FromSeconds(30), () => host.OutputTail());
            return (phase, [.. answered]);
        }

        await E2eBenchmark.WarmUpAsync(() => Run(Math.Min(count, 2_000)), TimeSpan.FromSeconds(6));
        var hostCpu = host.CpuTime();
        var (measured, answeredMs) = await Run(count);
        var hostMicros = (host.CpuTime() - hostCpu).TotalMilliseconds * 1000 / count;
        receiver.Phase = null;
        var answer = Percentiles.Of(answeredMs);
        var rate = measured.Rate();
        Console.WriteLine($"  POST /ingest -> receiver        {rate,8:N0}/s   POST->202 p50 {answer.P50:0.00} ms, p99 {answer.P99:0.00} ms; "
                          + $"host {hostMicros:N0} µs CPU/registration; {measured.Duplicates} duplicates");
        Console.WriteLine();
        Console.WriteLine("| 1 KB, concurrency " + concurrency + " | msg/s | p50 (POST to 2xx; raw: to arrival) | p99 |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| raw HTTP POST to the receiver (baseline) | {raw.PerSecond:N0} | {raw.Latency.P50:0.00} ms | {raw.Latency.P99:0.00} ms |");
        Console.WriteLine($"| POST /ingest, 202 after RabbitMQ's confirm, delivered to the receiver | {rate:N0} | {answer.P50:0.00} ms | {answer.P99:0.00} ms |");
        Console.WriteLine($"| ratio ingest / raw | {rate / raw.PerSecond:0.00}x | {answer.P50 / raw.Latency.P50:0.0}x | {answer.P99 / raw.Latency.P99:0.0}x |");
        await host.StopAsync();
        return 0;
    }
}
