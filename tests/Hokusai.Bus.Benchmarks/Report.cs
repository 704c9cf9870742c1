using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Benchmarks;

/// <summary>One live configuration: the host delivering a stream, with its limits and the peer measured alongside.</summary>
internal sealed record LiveResult(
    string Scenario,
    string Payload,
    int PayloadBytes,
    int PublishedBytes,
    int DeliveredBytes,
    int Concurrency,
    int ReceiverDelayMs,
    int Count,
    double E2ePerSecond,
    Percentiles SaturatedLatencyMs,
    double PacedPerSecond,
    Percentiles PacedLatencyMs,
    double HostPeakRssMb,
    double HostCpuMicrosecondsPerMessage,
    double HostCpuMicrosecondsPerMessagePaced,
    double BrokerCpuMicrosecondsPerMessage,
    double OtherProcessesCores,
    double RawHttpPerSecond,
    Percentiles RawHttpLatencyMs,
    double RawAmqpPerSecond,
    double RawAmqpBeforePerSecond,
    double RawAmqpAfterPerSecond,
    Percentiles RawAmqpPacedLatencyMs,
    double PeerPerSecond,
    Percentiles PeerLatencyMs,
    double RawBridgePerSecond,
    double RawBridgeCpuMicrosecondsPerMessage,
    double FloorPerSecond,
    double FloorCpuMicrosecondsPerMessage,
    long Duplicates,
    long BadOrStray)
{
    public double LimitPerSecond => Math.Min(RawHttpPerSecond, RawAmqpPerSecond);

    public string LimitedBy => RawHttpPerSecond <= RawAmqpPerSecond ? "HTTP" : "AMQP";

    public double RatioToLimit => E2ePerSecond / LimitPerSecond;

    public double RatioToPeer => E2ePerSecond / PeerPerSecond;

    /// <summary>Host CPU per delivery over the MassTransit floor's (target at most <see cref="FloorBenchmark.CpuTarget"/>).</summary>
    public double CpuToFloor => HostCpuMicrosecondsPerMessage / FloorCpuMicrosecondsPerMessage;

    /// <summary>Host msg/s over the MassTransit floor's (target at least <see cref="FloorBenchmark.RateTarget"/>).</summary>
    public double RateToFloor => E2ePerSecond / FloorPerSecond;
}

/// <summary>One backlog drain: published with the host stopped, then drained by a fresh host.</summary>
internal sealed record BacklogResult(
    string Payload,
    int PayloadBytes,
    int Concurrency,
    int Count,
    double PublishPerSecond,
    double DrainPerSecond,
    double DrainSeconds,
    double LaunchToDrainedSeconds,
    double HostRssAtStartMb,
    double HostPeakRssMb,
    double HostMaxSampledRssMb,
    long MaxMessagesInHost,
    long ReadyAtFirstSample,
    long Samples,
    double HostCpuMicrosecondsPerMessage,
    long Duplicates,
    long BadOrStray);

/// <summary>Prints the tables and writes artifacts/bench/result.json.</summary>
internal sealed class Report(E2eOptions options)
{
    public const double LimitTarget = 0.60;
    public const double PeerTarget = 20;
    public const int HostCpuTarget = 70; // µs of host CPU per 1 KB delivery (issue #14)

    public List<LiveResult> Live { get; } = [];

    public List<BacklogResult> Backlog { get; } = [];

    /// <summary>Configurations that failed twice, with the reason; the rest of the run still reports.</summary>
    public List<string> Failures { get; } = [];

    public double Seconds { get; set; }

    public void Add(LiveResult result) => Live.Add(result);

    public void Add(BacklogResult result) => Backlog.Add(result);

    public void PrintHeader()
    {
        Console.WriteLine($"Hokusai.Bus e2e benchmark ({(options.Full ? "full" : "quick")}), {Environment.ProcessorCount} cores, "
                          + $"{RuntimeInformation.FrameworkDescription}, commit {Git("rev-parse --short HEAD")}{(Git("status --porcelain").Length > 0 ? " (dirty)" : "")}");
        Console.WriteLine("args: " + string.Join(' ', options.Arguments));
    }

    public void PrintTables() => Console.Write(Tables());

    public string Tables()
    {
        var text = new StringBuilder();
        if (Live.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("End to end (publish -> RabbitMQ -> host -> signed POST -> receiver) against its limits and the sequential peer");
            var rows = new List<string[]>
            {
                new[] { "scenario", "payload", "conc", "delay", "N", "e2e msg/s", "p50 ms", "p95 ms", "p99 ms", "@ msg/s",
                        "host RSS MB", "host µs/msg", "@paced", "broker µs/msg", "bridge µs/msg", "floor µs/msg", "host/floor", "floor msg/s", "other cores", "raw HTTP/s", "raw AMQP/s", "e2e/limit", "peer msg/s", "e2e/peer" },
            };
            rows.AddRange(Live.Select(r => new[]
            {
                r.Scenario, r.Payload, I(r.Concurrency), r.ReceiverDelayMs + " ms", I(r.Count), N(r.E2ePerSecond),
                F(r.PacedLatencyMs.P50), F(r.PacedLatencyMs.P95), F(r.PacedLatencyMs.P99), N(r.PacedPerSecond),
                r.HostPeakRssMb.ToString("0", CultureInfo.InvariantCulture), N(r.HostCpuMicrosecondsPerMessage),
                N(r.HostCpuMicrosecondsPerMessagePaced), N(r.BrokerCpuMicrosecondsPerMessage), N(r.RawBridgeCpuMicrosecondsPerMessage),
                N(r.FloorCpuMicrosecondsPerMessage), double.IsFinite(r.CpuToFloor) ? $"{r.CpuToFloor:0.00}x" : "-", N(r.FloorPerSecond),
                r.OtherProcessesCores.ToString("0.00", CultureInfo.InvariantCulture), N(r.RawHttpPerSecond), N(r.RawAmqpPerSecond), double.IsFinite(r.RatioToLimit) ? $"{r.RatioToLimit:P0} ({r.LimitedBy})" : "-",
                N(r.PeerPerSecond), double.IsFinite(r.RatioToPeer) ? $"{r.RatioToPeer:0.00}x" : "-",
            }));
            Table(text, rows);
            text.AppendLine("  latency: publish -> arrival at the receiver, paced at half the measured e2e rate or --paced-rate (@ msg/s);"
                            + " limit = min(raw HTTP, raw AMQP at the same concurrency; AMQP: mean of before and after the host run);");
            text.AppendLine("  host/broker µs/msg: CPU time of the host / of RabbitMQ per delivery in the saturated run (@paced: the host's in the paced run);");
            text.AppendLine("  bridge µs/msg: CPU per delivery of the raw bridge (RabbitMQ.Client consume, validate, serialize, sign, POST, ack; no MassTransit), the least a delivery costs;");
            text.AppendLine("  floor µs/msg, floor msg/s: the same work as a plain MassTransit consumer (AddConsumer, raw JSON, prefetch = ConcurrentMessageLimit = concurrency), what the host is held to; host/floor: host µs/msg over it;");
            text.AppendLine("  other cores: CPU used meanwhile by every other process on the machine (noise); RSS = host VmHWM.");
        }

        if (Backlog.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Backlog drain (published with the host stopped, then a fresh host drains it)");
            var rows = new List<string[]>
            {
                new[] { "backlog", "payload", "conc", "publish msg/s", "drain msg/s", "drain s", "launch->drained s",
                        "RSS at start MB", "peak RSS MB", "max in host", "ready at start", "host µs/msg" },
            };
            rows.AddRange(Backlog.Select(r => new[]
            {
                I(r.Count), r.Payload, I(r.Concurrency), N(r.PublishPerSecond), N(r.DrainPerSecond), F(r.DrainSeconds),
                F(r.LaunchToDrainedSeconds), r.HostRssAtStartMb.ToString("0", CultureInfo.InvariantCulture),
                r.HostPeakRssMb.ToString("0", CultureInfo.InvariantCulture), I((int)r.MaxMessagesInHost),
                I((int)r.ReadyAtFirstSample), N(r.HostCpuMicrosecondsPerMessage),
            }));
            Table(text, rows);
            text.AppendLine("  max in host: published - ready in RabbitMQ - delivered, sampled every 200 ms (an upper bound: the two are read a moment apart);");
            text.AppendLine("  RSS at start: host VmRSS once its bus started; peak: VmHWM after the drain. Drain time excludes host start-up.");
        }

        if (Live.Count + Backlog.Count > 0)
        {
            var bad = Live.Sum(r => r.Duplicates + r.BadOrStray) + Backlog.Sum(r => r.Duplicates + r.BadOrStray);
            text.AppendLine($"Duplicates + bad signatures + stray requests across all runs: {bad} (must be 0).");
        }

        if (Headline() is { } head && double.IsFinite(head.LimitPerSecond))
        {
            text.AppendLine();
            text.AppendLine($"Targets ({head.Payload}, WEBHOOK_CONCURRENCY={head.Concurrency}, receiver on loopback):");
            text.AppendLine($"  e2e / min(raw HTTP, raw AMQP) = {N(head.E2ePerSecond)} / {N(head.LimitPerSecond)} = {head.RatioToLimit:P0}"
                            + $"   target >= {LimitTarget:P0}: {(head.RatioToLimit >= LimitTarget ? "met" : "not met")}");
            text.AppendLine($"  e2e / sequential peer         = {N(head.E2ePerSecond)} / {N(head.PeerPerSecond)} = {head.RatioToPeer:0.00}x"
                            + $"   target >= {PeerTarget}x: {(head.RatioToPeer >= PeerTarget ? "met" : "not met")}");
            text.AppendLine($"  host CPU per delivery         = {N(head.HostCpuMicrosecondsPerMessage)} µs   target <= {HostCpuTarget} µs: "
                            + $"{(head.HostCpuMicrosecondsPerMessage <= HostCpuTarget ? "met" : "not met")}; the raw bridge (no MassTransit) "
                            + $"{N(head.RawBridgeCpuMicrosecondsPerMessage)} µs, host / bridge = {head.HostCpuMicrosecondsPerMessage / head.RawBridgeCpuMicrosecondsPerMessage:0.00}x");
            text.AppendLine($"  host / MassTransit floor       = CPU per delivery {head.CpuToFloor:0.00}x (target <= {FloorBenchmark.CpuTarget:0.00}x: "
                            + $"{(head.CpuToFloor <= FloorBenchmark.CpuTarget ? "met" : "not met")}), msg/s {head.RateToFloor:0.00}x (target >= "
                            + $"{FloorBenchmark.RateTarget:0.00}x: {(head.RateToFloor >= FloorBenchmark.RateTarget ? "met" : "not met")})");
            foreach (var remote in Live.Where(r => r.Scenario == "remote"))
            {
                text.AppendLine($"  {remote.ReceiverDelayMs} ms endpoint, WEBHOOK_CONCURRENCY={remote.Concurrency}: e2e / limit = {remote.RatioToLimit:P0}, "
                                + $"e2e / sequential peer = {N(remote.E2ePerSecond)} / {N(remote.PeerPerSecond)} = {remote.RatioToPeer:0.0}x"
                                + $"   target >= {PeerTarget}x: {(remote.RatioToPeer >= PeerTarget ? "met" : "not met")}");
            }

            if (Live.Where(r => r.Scenario == "sweep").ToList() is { Count: > 1 } sweep)
            {
                var best = sweep.MaxBy(r => r.E2ePerSecond)!;
                text.AppendLine($"  concurrency sweep at 1 KB: best e2e at WEBHOOK_CONCURRENCY={best.Concurrency} ({N(best.E2ePerSecond)}/s, "
                                + $"{best.RatioToLimit:P0} of its limit); " + string.Join(", ", sweep.Select(r => $"{r.Concurrency}: {N(r.E2ePerSecond)}/s")));
            }
        }

        foreach (var failure in Failures)
        {
            text.AppendLine("FAILED: " + failure);
        }

        text.AppendLine($"Total time {Seconds:0} s.");
        return text.ToString();
    }

    public void Write()
    {
        var path = options.Output ?? Path.Combine(RepositoryRoot(), "artifacts", "bench", "result.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var head = Headline();
        var document = new
        {
            generatedAt = DateTimeOffset.UtcNow,
            mode = options.Full ? "full" : "quick",
            arguments = options.Arguments,
            environment = new
            {
                cores = Environment.ProcessorCount,
                runtime = RuntimeInformation.FrameworkDescription,
                os = RuntimeInformation.OSDescription,
                commit = Git("rev-parse HEAD"),
                dirty = Git("status --porcelain").Length > 0,
                hostEnvironment = options.HostEnvironment,
            },
            targets = head is null ? null : new
            {
                payload = head.Payload,
                concurrency = head.Concurrency,
                e2ePerSecond = head.E2ePerSecond,
                limitPerSecond = head.LimitPerSecond,
                limitedBy = head.LimitedBy,
                ratioToLimit = head.RatioToLimit,
                ratioToLimitTarget = LimitTarget,
                ratioToLimitMet = head.RatioToLimit >= LimitTarget,
                peerPerSecond = head.PeerPerSecond,
                ratioToPeer = head.RatioToPeer,
                ratioToPeerTarget = PeerTarget,
                ratioToPeerMet = head.RatioToPeer >= PeerTarget,
            },
            live = Live,
            backlog = Backlog,
            failures = Failures,
            seconds = Seconds,
            table = Tables(),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, JsonOptions));
        Console.WriteLine($"Wrote {Path.GetFullPath(path)}");
    }

    /// <summary>The configuration the targets are judged on: 1 KB on loopback at the primary concurrency.</summary>
    private LiveResult? Headline() =>
        Live.Find(r => r.PayloadBytes == 1024 && r.ReceiverDelayMs == 0 && r.Concurrency == options.Concurrency)
        ?? Live.Find(r => r.ReceiverDelayMs == 0);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static void Table(StringBuilder text, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        for (var r = 0; r < rows.Count; r++)
        {
            text.Append("  ");
            for (var i = 0; i < widths.Length; i++)
            {
                var cell = rows[r][i];
                // Text columns left-aligned, numbers right-aligned.
                text.Append(i < 2 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i])).Append("  ");
            }

            text.AppendLine();
            if (r == 0)
            {
                text.Append("  ").AppendLine(new string('-', widths.Sum() + 2 * widths.Length));
            }
        }
    }

    private static string I(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string N(double value) => double.IsFinite(value) ? value.ToString("N0", CultureInfo.InvariantCulture) : "-";

    private static string F(double value) => double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    internal static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Hokusai.Bus.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Environment.CurrentDirectory;
    }

    private static string Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = RepositoryRoot(),
            })!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}
