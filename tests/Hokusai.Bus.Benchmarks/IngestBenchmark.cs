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
        var rounds = 2;
        var floorOnly = false;
        IReadOnlyCollection<string> only = IngestFloorComparison.Names;
        IReadOnlyDictionary<string, string> hostEnvironment = new Dictionary<string, string>();
        var variants = new List<(string Label, Dictionary<string, string> Settings)>();
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
                case "--rounds":
                    rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--host-env":
                    hostEnvironment = FloorBenchmark.Pairs(args[i + 1]);
                    break;
                case "--floor-only":
                    floorOnly = args[i + 1] == "true";
                    break;
                case "--only":
                    only = args[i + 1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (only.Except(IngestFloorComparison.Names).FirstOrDefault() is { } unknown)
                    {
                        Console.Error.WriteLine($"--only: '{unknown}' is not one of {string.Join(", ", IngestFloorComparison.Names)}");
                        return Usage();
                    }

                    break;
                case "--variant":
                    try
                    {
                        variants.Add(FloorBenchmark.Variant(args[i + 1]));
                    }
                    catch (ArgumentException e)
                    {
                        Console.Error.WriteLine(e.Message);
                        return Usage();
                    }

                    break;
                default:
                    return Usage();
            }
        }

        static int Usage()
        {
            Console.Error.WriteLine("usage: ingest [--count N] [--concurrency C] [--rounds R] [--floor-only true] [--host-env K=V,...] "
                                    + "[--variant LABEL:K=V,...] [--only masstransit,bare,key,log,validate,json,reader,full,bus,timeout (the floor's two instances and the host always run)]");
            return 2;
        }

        if (Services.RabbitMqSkipReason is { } skip)
        {
            Console.Error.WriteLine(skip);
            return 3;
        }

        var payload = new Payload(1024);
        await using var receiver = await BenchReceiver.StartAsync(Secret);
        await IngestFloorComparison.RunAsync(receiver, payload, rounds, count, concurrency, hostEnvironment, variants, only);
        if (floorOnly)
        {
            return 0;
        }

        Console.WriteLine($"[ingest] {payload.Label}, concurrency {concurrency}, {count} registrations");

        var raw = await RawHttpBaseline.RunAsync(receiver, payload, concurrency, count, Secret);
        Console.WriteLine($"  raw HTTP POST to the receiver   {raw.PerSecond,8:N0}/s   p50 {raw.Latency.P50:0.00} ms, p99 {raw.Latency.P99:0.00} ms");

        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        await using var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), 32,
            new Dictionary<string, string> { ["INGEST_SECRET"] = IngestSecret, ["WEBHOOK_EVENT_TYPES"] = "model_registered,deltaone.achieved" });
        using var client = RawHttpBaseline.HostLikeClient(concurrency);
        var ingestUrl = new Uri(host.BaseUrl, "ingest");
        var signer = new WebhookSigner(IngestSecret, SignatureFormat.Sha256Prefixed);
        var deltaOneSigner = new DeltaOneSigner(IngestSecret);

        // A registration (the guide's shape), or a DeltaOne event as the pipeline signs it: a new timestamp and nonce per POST.
        HttpRequestMessage Request(Phase phase, int seq, bool deltaOne)
        {
            if (!deltaOne)
            {
                var body = payload.Body(phase.Id, seq);
                return RawHttpBaseline.Post(ingestUrl, body, signer.Sign(body), phase.KeyOf(seq));
            }

            var deltaOneBody = DeltaOneBody(phase.KeyOf(seq), payload.TargetBytes);
            var (timestamp, nonce) = DeltaOneSigner.NewAttempt(DateTimeOffset.UtcNow);
            var request = RawHttpBaseline.Post(ingestUrl, deltaOneBody, deltaOneSigner.Sign(deltaOneBody, timestamp, nonce), key: null);
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Timestamp, timestamp);
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Nonce, nonce);
            return request;
        }

        async Task<(Phase Phase, List<double> AnsweredMs)> Run(int n, bool deltaOne = false)
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
                    using var request = Request(phase, seq, deltaOne);
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
        await E2eBenchmark.WarmUpAsync(() => Run(Math.Min(count, 2_000), deltaOne: true), TimeSpan.FromSeconds(3));
        (double Rate, Percentiles Answer, double HostMicros, long Duplicates) Measure(Phase phase, List<double> answeredMs, TimeSpan cpu) =>
            (phase.Rate(), Percentiles.Of(answeredMs), cpu.TotalMilliseconds * 1000 / count, phase.Duplicates);

        var hostCpu = host.CpuTime();
        var (measured, answeredMs) = await Run(count);
        var registrations = Measure(measured, answeredMs, host.CpuTime() - hostCpu);
        hostCpu = host.CpuTime();
        (measured, answeredMs) = await Run(count, deltaOne: true);
        var deltaOne = Measure(measured, answeredMs, host.CpuTime() - hostCpu);
        receiver.Phase = null;
        foreach (var (name, row) in new[] { ("registrations", registrations), ("DeltaOne events", deltaOne) })
        {
            Console.WriteLine($"  POST /ingest -> receiver, {name,-15} {row.Rate,8:N0}/s   POST->202 p50 {row.Answer.P50:0.00} ms, "
                              + $"p99 {row.Answer.P99:0.00} ms; host {row.HostMicros:N0} µs CPU/event; {row.Duplicates} duplicates");
        }

        Console.WriteLine();
        Console.WriteLine("| 1 KB, concurrency " + concurrency + " | msg/s | p50 (POST to 2xx; raw: to arrival) | p99 | host CPU per event |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| raw HTTP POST to the receiver (baseline) | {raw.PerSecond:N0} | {raw.Latency.P50:0.00} ms | {raw.Latency.P99:0.00} ms | |");
        Console.WriteLine($"| POST /ingest, a registration, 202 after RabbitMQ's confirm, delivered to the receiver | {registrations.Rate:N0} | "
                          + $"{registrations.Answer.P50:0.00} ms | {registrations.Answer.P99:0.00} ms | {registrations.HostMicros:N0} µs |");
        Console.WriteLine($"| POST /ingest, a DeltaOne event (verified with its nonce, signed anew per delivery) | {deltaOne.Rate:N0} | "
                          + $"{deltaOne.Answer.P50:0.00} ms | {deltaOne.Answer.P99:0.00} ms | {deltaOne.HostMicros:N0} µs |");
        Console.WriteLine($"| ratio registration / raw | {registrations.Rate / raw.PerSecond:0.00}x | {registrations.Answer.P50 / raw.Latency.P50:0.0}x | "
                          + $"{registrations.Answer.P99 / raw.Latency.P99:0.0}x | |");
        Console.WriteLine($"| ratio DeltaOne / registration | {deltaOne.Rate / registrations.Rate:0.00}x | {deltaOne.Answer.P50 / registrations.Answer.P50:0.00}x | "
                          + $"{deltaOne.Answer.P99 / registrations.Answer.P99:0.00}x | {deltaOne.HostMicros / registrations.HostMicros:0.00}x |");
        await host.StopAsync();
        return 0;
    }

    /// <summary>
    /// A DeltaOne event as the pipeline builds it (keys sorted, compact), padded to about <paramref name="size"/> bytes,
    /// whose <c>run_id</c> is the phase key the receiver counts it by.
    /// </summary>
    private static byte[] DeltaOneBody(string runId, int size)
    {
        var head = "{\"attestation_hash\":\"0x" + new string('c', 64) + "\",\"baseline_run_id\":\"run-base\",\"dataset_hash\":\"0x" + new string('a', 64)
                   + "\",\"delta_percentage_points\":1.25,\"evaluated_at\":\"2026-12-06T10:00:00.123456+00:00\",\"event_type\":\"deltaone.achieved\","
                   + "\"metric_name\":\"accuracy\",\"model_id\":\"21\",\"notes\":\"";
        var tail = "\",\"run_id\":\"" + runId + "\"}";
        return System.Text.Encoding.ASCII.GetBytes(head + new string('n', Math.Max(0, size - head.Length - tail.Length)) + tail);
    }
}
