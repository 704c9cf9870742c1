using System.Diagnostics;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The end-to-end benchmark: registrations published to RabbitMQ as the pipeline publishes them, delivered by the real
/// host as signed POSTs to <see cref="BenchReceiver"/>, measured against the limits it is held to (raw HTTP, raw AMQP)
/// and against the sequential peer, in the same run and on the same machine. Each configuration gets its own throwaway
/// virtual host and a fresh host process.
/// </summary>
internal static class E2eBenchmark
{
    private const string Secret = "bench-secret-not-a-real-one";
    private const string DeliveryQueue = "hokusai-webhook-delivery";
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(E2eOptions options)
    {
        var report = new Report(options);
        report.PrintHeader();
        if (Services.RabbitMqSkipReason is { } skip)
        {
            Console.Error.WriteLine(skip + " (bash scripts/services.sh start && bash scripts/services.sh wait)");
            return 3;
        }

        await using var receiver = await BenchReceiver.StartAsync(Secret);
        var peers = new Dictionary<(int Size, int DelayMs), (double PerSecond, Percentiles Latency, int Sent)>();
        var total = Stopwatch.StartNew();

        async Task Live(string scenario, int sizeKb, int concurrency, int delayMs)
        {
            if (report.Live.Find(r => r.Scenario != "remote" && delayMs == 0 && r.PayloadBytes == sizeKb * 1024
                                      && r.Concurrency == concurrency && r.ReceiverDelayMs == 0) is { } done)
            {
                report.Add(done with { Scenario = scenario });
                return;
            }

            var payload = new Payload(sizeKb * 1024);
            var count = delayMs > 0 ? Math.Min(options.CountFor(payload.TargetBytes), concurrency * 1000 / delayMs * 4)
                                    : options.CountFor(payload.TargetBytes);
            (double PerSecond, Percentiles Latency, int Sent) peer;
            if (!options.Baselines)
            {
                peer = (double.NaN, Percentiles.Of([]), 0);
            }
            else if (!peers.TryGetValue((payload.TargetBytes, delayMs), out peer))
            {
                receiver.Delay = TimeSpan.FromMilliseconds(delayMs);
                peer = SequentialPeer.Run(receiver, payload, Secret, count, TimeSpan.FromSeconds(options.PeerSeconds));
                peers[(payload.TargetBytes, delayMs)] = peer;
            }

            if (await Attempt($"{scenario} {payload.Label} concurrency {concurrency} delay {delayMs} ms",
                    () => RunLiveAsync(options, receiver, scenario, payload, concurrency, delayMs, count, peer)) is { } result)
            {
                report.Add(result);
            }
        }

        // A configuration that fails (e.g. RabbitMQ restarted by someone else's tests on a shared machine) is tried
        // once more when the broker answers again; if it fails again it is reported and the run goes on.
        async Task<T?> Attempt<T>(string what, Func<Task<T>> run)
            where T : class
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await run();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    receiver.Phase = null;
                    Console.WriteLine($"  FAILED ({what}, attempt {attempt}): {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                    if (attempt == 2)
                    {
                        report.Failures.Add($"{what}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                        return null;
                    }

                    await WaitForBrokerAsync();
                }
            }
        }

        try
        {
            if (options.Scenarios.Contains("sweep"))
            {
                foreach (var c in options.Sweep)
                {
                    await Live("sweep", 1, c, 0);
                }
            }

            if (options.Scenarios.Contains("sizes"))
            {
                foreach (var kb in options.SizesKb)
                {
                    await Live("sizes", kb, options.Concurrency, 0);
                }
            }

            if (options.Scenarios.Contains("backlog"))
            {
                foreach (var n in options.Backlog)
                {
                    if (await Attempt($"backlog {n}", () => RunBacklogAsync(options, receiver, new Payload(1024), options.Concurrency, n)) is { } result)
                    {
                        report.Add(result);
                    }
                }
            }

            if (options.Scenarios.Contains("remote"))
            {
                foreach (var c in options.Sweep.Contains(options.Concurrency) ? options.Sweep : [options.Concurrency, .. options.Sweep])
                {
                    await Live("remote", 1, c, options.RemoteMs);
                }
            }
        }
        finally
        {
            report.Seconds = total.Elapsed.TotalSeconds;
            report.PrintTables();
            report.Write();
        }

        return report.Failures.Count == 0 ? 0 : 1;
    }

    /// <summary>Until the broker answers again: its management API, and a connection on its AMQP port.</summary>
    private static async Task WaitForBrokerAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        await RabbitMqManagement.Eventually(async () =>
        {
            try
            {
                if (!(await http.GetAsync(new Uri(Services.ManagementUrl, "api/overview"))).IsSuccessStatusCode)
                {
                    return false;
                }

                await using var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = Services.AmqpUrl() }.CreateConnectionAsync();
                return connection.IsOpen;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or RabbitMQ.Client.Exceptions.BrokerUnreachableException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(2), "RabbitMQ to answer again");
    }

    private static async Task<LiveResult> RunLiveAsync(
        E2eOptions options, BenchReceiver receiver, string scenario, Payload payload, int concurrency, int delayMs,
        int count, (double PerSecond, Percentiles Latency, int Sent) peer)
    {
        Console.WriteLine($"[{scenario}] {payload.Label}, WEBHOOK_CONCURRENCY={concurrency}, receiver delay {delayMs} ms, {count} messages");
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        receiver.Delay = TimeSpan.FromMilliseconds(delayMs);
        var strayBefore = receiver.Stray;

        var http = (PerSecond: double.NaN, Latency: Percentiles.Of([]));
        RawAmqpBaseline? amqp = null;
        var amqpBefore = double.NaN;
        var bridge = (PerSecond: double.NaN, CpuMicrosecondsPerMessage: double.NaN);
        var floor = (PerSecond: double.NaN, CpuMicrosecondsPerMessage: double.NaN);
        if (options.Baselines)
        {
            http = await RawHttpBaseline.RunAsync(receiver, payload, concurrency, count, Secret);
            Console.WriteLine($"  raw HTTP  {http.PerSecond,10:N0}/s   p50 {http.Latency.P50:0.00} ms");
            amqp = await RawAmqpBaseline.StartAsync(vhost.AmqpUrl, payload, concurrency, options.Window);
            await WarmUpAsync(() => amqp.RunAsync(Math.Min(count, 2_000)), TimeSpan.FromSeconds(2));
            amqpBefore = (await amqp.RunAsync(count)).Rate();
            Console.WriteLine($"  raw AMQP  {amqpBefore,10:N0}/s");
            Console.WriteLine($"  peer      {peer.PerSecond,10:N0}/s   p50 {peer.Latency.P50:0.00} ms ({peer.Sent} sent)");
            var measured = await RawBridge.MeasureAsync(receiver, payload, concurrency, count, options.Window, Secret);
            bridge = (measured.PerSecond, measured.CpuMicrosecondsPerMessage);
            Console.WriteLine($"  bridge    {bridge.PerSecond,10:N0}/s   {bridge.CpuMicrosecondsPerMessage:N0} µs/msg (RabbitMQ.Client + HttpClient by hand)");
            measured = await MassTransitFloor.MeasureAsync(receiver, payload, concurrency, count, options.Window, Secret);
            floor = (measured.PerSecond, measured.CpuMicrosecondsPerMessage);
            Console.WriteLine($"  floor     {floor.PerSecond,10:N0}/s   {floor.CpuMicrosecondsPerMessage:N0} µs/msg (a plain MassTransit consumer)");
        }

        await using var amqpLifetime = amqp;

        var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), concurrency, options.HostEnvironment);
        double e2e, pacedRate, peakMb, hostMicros, brokerMicros, hostMicrosPaced, otherCores;
        Percentiles saturatedLatency, latency;
        long duplicates, invalid;
        try
        {
            await using var publisher = await AmqpPublisher.ConnectAsync(vhost.AmqpUrl, "bench publisher");
            string Diagnostics() => "host output (tail):\n" + host.OutputTail();

            Task<Phase> Publish(int n, double? perSecond) =>
                PublishPhaseAsync(publisher, receiver, payload, n, options.Window, perSecond, Diagnostics);

            // Warm-up, at least 6 s: the host's tiered JIT (it compiles for several seconds after start), dynamic PGO,
            // GC heap sizing, HTTP connections.
            await WarmUpAsync(() => Publish(Math.Min(count, 3_000), null), TimeSpan.FromSeconds(6));
            var hostCpu = host.CpuTime();
            var brokerCpu = Broker.CpuTime();
            var machine = Machine.Start(host);
            var saturated = await Publish(count, null);
            otherCores = machine.OtherCores();
            Dump(options, saturated, $"{scenario}-{payload.TargetBytes}-c{concurrency}-d{delayMs}-e2e-saturated");
            hostMicros = (host.CpuTime() - hostCpu).TotalMilliseconds * 1000 / count;
            brokerMicros = (Broker.CpuTime() - brokerCpu).TotalMilliseconds * 1000 / count;
            e2e = saturated.Rate();
            saturatedLatency = saturated.Latency();
            Console.WriteLine($"  e2e       {e2e,10:N0}/s   host {hostMicros:N0} µs/msg, broker {brokerMicros:N0} µs/msg "
                              + $"(saturated p50 {saturatedLatency.P50:0} ms: queueing); other processes used {otherCores:0.00} cores");

            // Latency at half the measured capacity: publish->delivered without a queue building up.
            pacedRate = options.PacedRate ?? e2e / 2;
            var pacedCount = (int)Math.Clamp(pacedRate * options.PacedSeconds, 200, Math.Max(count, pacedRate * options.PacedSeconds));
            hostCpu = host.CpuTime();
            var paced = await Publish(pacedCount, pacedRate);
            hostMicrosPaced = (host.CpuTime() - hostCpu).TotalMilliseconds * 1000 / pacedCount;
            latency = paced.Latency();
            Dump(options, paced, $"{scenario}-{payload.TargetBytes}-c{concurrency}-d{delayMs}-e2e-paced");
            Console.WriteLine($"  paced     {pacedRate,10:N0}/s   p50 {latency.P50:0.00} ms, p95 {latency.P95:0.00} ms, p99 {latency.P99:0.00} ms, "
                              + $"host {hostMicrosPaced:N0} µs/msg");
            peakMb = host.PeakRssKb() / 1024.0;
            duplicates = saturated.Duplicates + paced.Duplicates;
            invalid = saturated.Invalid + paced.Invalid + receiver.Stray - strayBefore;
            await host.StopAsync();
        }
        finally
        {
            receiver.Phase = null;
            await host.DisposeAsync();
        }

        var amqpRate = double.NaN;
        var amqpAfter = double.NaN;
        var amqpPaced = Percentiles.Of([]);
        if (amqp is not null)
        {
            // The AMQP limit again after the host run, so that drift on this shared machine shows; the mean is used.
            amqpAfter = (await amqp.RunAsync(count)).Rate();
            amqpRate = (amqpBefore + amqpAfter) / 2;
            Console.WriteLine($"  raw AMQP  {amqpAfter,10:N0}/s   (after; mean {amqpRate:N0}/s)");

            // The broker's share of that latency: raw AMQP at the same paced rate, with the host gone.
            var amqpPacedPhase = await amqp.RunAsync((int)Math.Clamp(pacedRate * options.PacedSeconds, 200, count), pacedRate);
            Dump(options, amqpPacedPhase, $"{scenario}-{payload.TargetBytes}-c{concurrency}-d{delayMs}-amqp-paced");
            amqpPaced = amqpPacedPhase.Latency();
            Console.WriteLine($"  raw AMQP paced at the same rate: p50 {amqpPaced.P50:0.00} ms, p95 {amqpPaced.P95:0.00} ms, p99 {amqpPaced.P99:0.00} ms");
        }

        return new LiveResult(
            scenario, payload.Label, payload.TargetBytes, payload.PublishedBytes, payload.DeliveredBody.Length, concurrency,
            delayMs, count, e2e, saturatedLatency, pacedRate, latency, peakMb, hostMicros, hostMicrosPaced, brokerMicros, otherCores,
            http.PerSecond, http.Latency, amqpRate, amqpBefore, amqpAfter, amqpPaced, peer.PerSecond, peer.Latency, bridge.PerSecond, bridge.CpuMicrosecondsPerMessage,
            floor.PerSecond, floor.CpuMicrosecondsPerMessage, duplicates, invalid);
    }

    private static void Dump(E2eOptions options, Phase phase, string name)
    {
        if (options.DumpDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            phase.Dump(Path.Combine(dir, name + ".csv"));
        }
    }

    /// <summary>
    /// Publishes <paramref name="n"/> registrations to the registrations exchange as one <see cref="Phase"/> the receiver
    /// records (paced when <paramref name="perSecond"/> is given) and waits until every one has arrived.
    /// </summary>
    internal static async Task<Phase> PublishPhaseAsync(
        AmqpPublisher publisher, BenchReceiver receiver, Payload payload, int n, int window, double? perSecond,
        Func<string> diagnostics)
    {
        var phase = new Phase(n);
        receiver.Phase = phase;
        await publisher.PublishAsync(AmqpPublisher.RegistrationsExchange, phase, seq => payload.Body(phase.Id, seq), window, perSecond);
        await phase.WaitAsync(Stall, diagnostics);
        return phase;
    }

    /// <summary>Runs <paramref name="round"/> until <paramref name="atLeast"/> has passed (at most 20 rounds).</summary>
    internal static async Task WarmUpAsync(Func<Task> round, TimeSpan atLeast)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20 && (i == 0 || watch.Elapsed < atLeast); i++)
        {
            await round();
        }
    }

    /// <summary>
    /// Warms <paramref name="pid"/> up until its JIT is quiet: rounds go on, for at least <paramref name="atLeast"/>,
    /// until one in which the tiered-compilation thread used under 2 % of a core, or <paramref name="atMost"/> has
    /// passed. Returns how long it took and whether the JIT settled.
    /// </summary>
    internal static async Task<(TimeSpan Took, bool Settled)> WarmUpUntilJitSettlesAsync(
        Func<Task> round, int pid, TimeSpan atLeast, TimeSpan atMost)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var jit = HostRun.TieredCompilerCpu(pid);
            var started = watch.Elapsed;
            await round();
            var share = (HostRun.TieredCompilerCpu(pid) - jit) / (watch.Elapsed - started);
            if (watch.Elapsed >= atLeast && share < 0.02)
            {
                return (watch.Elapsed, true);
            }

            if (watch.Elapsed >= atMost)
            {
                return (watch.Elapsed, false);
            }
        }
    }

    private static async Task<BacklogResult> RunBacklogAsync(
        E2eOptions options, BenchReceiver receiver, Payload payload, int concurrency, int count)
    {
        Console.WriteLine($"[backlog] {count} × {payload.Label}, WEBHOOK_CONCURRENCY={concurrency}");
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        receiver.Delay = TimeSpan.Zero;
        var strayBefore = receiver.Stray;

        // The host declares its queue and bindings; then it is stopped and the whole backlog is published.
        await using (var first = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), concurrency, options.HostEnvironment))
        {
            await first.StopAsync();
        }

        var phase = new Phase(count);
        receiver.Phase = phase;
        double publishSeconds;
        await using (var publisher = await AmqpPublisher.ConnectAsync(vhost.AmqpUrl, "bench backlog publisher"))
        {
            publishSeconds = await publisher.PublishAsync(AmqpPublisher.RegistrationsExchange, phase,
                seq => payload.Body(phase.Id, seq), options.Window);
        }

        Console.WriteLine($"  published {count / publishSeconds,10:N0}/s with the host stopped");
        var launched = Stopwatch.GetTimestamp();
        await using var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), concurrency, options.HostEnvironment);

        var rssAtStart = host.RssKb() / 1024.0;

        // While it drains, every 200 ms: messages still ready in RabbitMQ (queue.declare-ok, exact and current) and
        // so how many the host holds (published - ready - delivered), and the host's resident memory.
        long maxInHost = 0, samples = 0;
        double maxRssMb = 0;
        var readyAtStart = -1L;
        using var stop = new CancellationTokenSource();
        var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = vhost.AmqpUrl, ClientProvidedName = "bench sampler" }
            .CreateConnectionAsync();
        await using var sampling = connection;
        await using var channel = await connection.CreateChannelAsync();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var delivered = phase.Distinct;
                var ready = (await channel.QueueDeclarePassiveAsync(DeliveryQueue)).MessageCount;
                if (readyAtStart < 0)
                {
                    readyAtStart = ready;
                }

                maxInHost = Math.Max(maxInHost, count - ready - delivered);
                maxRssMb = Math.Max(maxRssMb, host.RssKb() / 1024.0);
                samples++;
                try
                {
                    await Task.Delay(200, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });

        var cpuBefore = host.CpuTime();
        await phase.WaitAsync(Stall, () => "host output (tail):\n" + host.OutputTail());
        var cpu = host.CpuTime() - cpuBefore;
        await stop.CancelAsync();
        await sampler;

        var drain = Stopwatch.GetElapsedTime(phase.FirstArrival, phase.LastArrival).TotalSeconds;
        var startToDrained = Stopwatch.GetElapsedTime(launched, phase.LastArrival).TotalSeconds;
        var peak = host.PeakRssKb() / 1024.0;
        await host.StopAsync();
        receiver.Phase = null;
        Console.WriteLine($"  drained   {count / drain,10:N0}/s in {drain:0.00} s ({startToDrained:0.00} s from host launch), "
                          + $"RSS {rssAtStart:0} MB at start, peak {peak:0} MB; at most {maxInHost} messages in the host "
                          + $"({samples} samples, {readyAtStart} ready at the first)");

        return new BacklogResult(payload.Label, payload.TargetBytes, concurrency, count, count / publishSeconds,
            count / drain, drain, startToDrained, rssAtStart, peak, maxRssMb, maxInHost, readyAtStart, samples,
            cpu.TotalMilliseconds * 1000 / count, phase.Duplicates, phase.Invalid + receiver.Stray - strayBefore);
    }
}
