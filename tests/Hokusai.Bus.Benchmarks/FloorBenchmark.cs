using System.Globalization;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The host against its floors, in rounds on one machine: the raw bridge (RabbitMQ.Client by hand), the MassTransit
/// floor (<see cref="MassTransitFloor"/>) and the host as it runs in production (every default on: metrics and
/// <c>/metrics</c>, the delivery log, the fleet breaker, the acknowledgement-timeout watch, console logs at
/// Information), each saturated with the same 1 KB stream at the same concurrency, in that order, then any
/// <c>--variant</c> of the host (the same host with some settings changed: the toggles that find a cost). Prints each
/// round and the host's ratios to the floor.
/// </summary>
internal static class FloorBenchmark
{
    public const string Usage = """
        floor options:
          --rounds N               bridge, floor, host (and variants) measured N times, alternating (default 3)
          --count N                deliveries per measured run (default 20000)
          --concurrency N          WEBHOOK_CONCURRENCY, and the floor's prefetch and ConcurrentMessageLimit (default 16)
          --only LIST              any of bridge,floor,host (default all; variants run with host)
          --variant LABEL:K=V,...  also the host with these settings (repeatable), e.g. nolog:DELIVERY_LOG=false
          --host-env K=V           a setting for the host and every variant (repeatable)
        """;

    /// <summary>The host's CPU per delivery at most this many times the floor's (issue 33).</summary>
    public const double CpuTarget = 1.15;

    /// <summary>The host's msg/s at least this share of the floor's.</summary>
    public const double RateTarget = 0.9;

    private const string Secret = "bench-secret-not-a-real-one";

    /// <summary>The host as it runs in production: logs at Information, ASP.NET Core's per-request lines at their default, Warning (the benchmark's other modes lower them).</summary>
    public static readonly IReadOnlyDictionary<string, string> Production = new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Hokusai.Bus"] = "Information",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 3;
        var count = 20_000;
        var concurrency = 16;
        var only = new HashSet<string> { "bridge", "floor", "host" };
        var variants = new List<(string Label, Dictionary<string, string> Settings)>();
        var common = new Dictionary<string, string>(Production);
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var name = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
                switch (name)
                {
                    case "--rounds":
                        rounds = int.Parse(Value(), CultureInfo.InvariantCulture);
                        break;
                    case "--count":
                        count = int.Parse(Value(), CultureInfo.InvariantCulture);
                        break;
                    case "--concurrency":
                        concurrency = int.Parse(Value(), CultureInfo.InvariantCulture);
                        break;
                    case "--only":
                        only = [.. Value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
                        break;
                    case "--variant":
                        variants.Add(Variant(Value()));
                        break;
                    case "--host-env":
                        foreach (var (k, v) in Pairs(Value()))
                        {
                            common[k] = v;
                        }

                        break;
                    default:
                        throw new ArgumentException($"unknown option '{name}'.");
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (Services.RabbitMqSkipReason is { } skip)
        {
            Console.Error.WriteLine(skip);
            return 3;
        }

        var payload = new Payload(1024);
        await using var receiver = await BenchReceiver.StartAsync(Secret);
        Console.WriteLine($"[floor] {payload.Label}, concurrency {concurrency}, {count:N0} deliveries saturated and "
                          + $"{Measurement.PacedRate:N0}/s paced per run, {rounds} round(s), {Environment.ProcessorCount} cores");
        var rows = new List<(int Round, string What, Measured Result)>();
        for (var round = 1; round <= rounds; round++)
        {
            if (only.Contains("bridge"))
            {
                Add(round, Bridge, await RawBridge.MeasureAsync(receiver, payload, concurrency, count, 256, Secret));
            }

            if (only.Contains("floor"))
            {
                Add(round, Floor, await MassTransitFloor.MeasureAsync(receiver, payload, concurrency, count, 256, Secret));
            }

            if (only.Contains("host"))
            {
                foreach (var (label, settings) in variants.Prepend((Host, new Dictionary<string, string>())))
                {
                    Add(round, label, await MeasureHostAsync(receiver, payload, concurrency, count, With(common, settings)));
                }
            }
        }

        void Add(int round, string what, Measured result)
        {
            rows.Add((round, what, result));
            Console.WriteLine($"  round {round}  {what,-36} {result.PerSecond,8:N0}/s   {result.CpuMicrosecondsPerMessage,5:N0} µs CPU/delivery saturated, "
                              + $"{result.PacedCpuMicrosecondsPerMessage,5:N0} µs paced, {result.ContextSwitchesPerMessage:0.0}/{result.PacedContextSwitchesPerMessage:0.0} context switches (warm-up {result.WarmUp.TotalSeconds:0} s{(result.JitSettled ? "" : ", JIT still busy")})");
        }

        Console.WriteLine();
        Console.WriteLine($"| round | what | msg/s | µs CPU per delivery, saturated | µs CPU per delivery, paced {Measurement.PacedRate:N0}/s "
                          + "| msg/s / floor | CPU / floor, saturated | CPU / floor, paced |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (round, what, r) in rows)
        {
            var floor = rows.Find(f => f.Round == round && f.What == Floor).Result;
            Console.WriteLine($"| {round} | {what} | {r.PerSecond:N0} | {r.CpuMicrosecondsPerMessage:N0} | {r.PacedCpuMicrosecondsPerMessage:N0} | "
                              + $"{Ratio(r.PerSecond, floor?.PerSecond)} | {Ratio(r.CpuMicrosecondsPerMessage, floor?.CpuMicrosecondsPerMessage)} | "
                              + $"{Ratio(r.PacedCpuMicrosecondsPerMessage, floor?.PacedCpuMicrosecondsPerMessage)} |");
        }

        // Against the floor of the same round, the median over the rounds (a 2-core machine varies from run to run).
        var labels = rows.Select(r => r.What).Where(w => w != Floor).Distinct().ToList();
        if (rows.Any(r => r.What == Floor) && labels.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"Against the MassTransit floor of the same round, median of {rounds}:");
            foreach (var label in labels)
            {
                var pairs = rows.Where(r => r.What == label)
                    .Select(r => (r.Result, Floor: rows.Find(f => f.Round == r.Round && f.What == Floor).Result))
                    .Where(p => p.Floor is not null).ToList();
                var rate = Median(pairs.Select(p => p.Result.PerSecond / p.Floor!.PerSecond));
                var cpu = Median(pairs.Select(p => p.Result.CpuMicrosecondsPerMessage / p.Floor!.CpuMicrosecondsPerMessage));
                var paced = Median(pairs.Select(p => p.Result.PacedCpuMicrosecondsPerMessage / p.Floor!.PacedCpuMicrosecondsPerMessage));
                var targets = label == Host
                    ? $"  (targets: CPU <= {CpuTarget:0.00}x {(cpu <= CpuTarget ? "met" : "not met")}, "
                      + $"msg/s >= {RateTarget:0.00}x {(rate >= RateTarget ? "met" : "not met")})"
                    : "";
                Console.WriteLine($"  {label,-36} msg/s {rate:0.00}x, CPU per delivery {cpu:0.00}x saturated, {paced:0.00}x paced{targets}");
            }
        }

        return 0;
    }

    private const string Bridge = "bridge (RabbitMQ.Client by hand)";
    private const string Floor = "floor (plain MassTransit consumer)";
    private const string Host = "host (production defaults)";

    private static string Ratio(double value, double? floor) => floor is { } f ? $"{value / f:0.00}x" : "-";

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN
            : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2]
            : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary><c>--variant LABEL:K=V,...</c>: the host with these settings changed; throws <see cref="ArgumentException"/> without a label.</summary>
    internal static (string Label, Dictionary<string, string> Settings) Variant(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new ArgumentException($"--variant needs LABEL:K=V,...; got '{text}'.");
        }

        return (text[..colon], Pairs(text[(colon + 1)..]));
    }

    /// <summary>The settings every host gets, with a variant's on top.</summary>
    internal static Dictionary<string, string> With(IReadOnlyDictionary<string, string> common, IReadOnlyDictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>(common);
        foreach (var (k, v) in settings)
        {
            environment[k] = v;
        }

        return environment;
    }

    /// <summary><c>K=V,K=V</c> as a dictionary; throws <see cref="ArgumentException"/> naming a pair without <c>=</c>.</summary>
    internal static Dictionary<string, string> Pairs(string text)
    {
        var pairs = new Dictionary<string, string>();
        foreach (var pair in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"settings are KEY=VALUE; got '{pair}'.");
            }

            pairs[pair[..eq]] = pair[(eq + 1)..];
        }

        return pairs;
    }

    /// <summary>A fresh host on its own virtual host, measured as the baselines are (<see cref="Measurement"/>).</summary>
    internal static async Task<Measured> MeasureHostAsync(
        BenchReceiver receiver, Payload payload, int concurrency, int count, IReadOnlyDictionary<string, string> environment)
    {
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench");
        var host = await HostRun.StartAsync(receiver.Url, Secret, vhost.AmqpUrl.ToString(), concurrency, environment);
        try
        {
            var measured = await Measurement.RunAsync(vhost.AmqpUrl, receiver, payload, count, 256, host.Pid, () => host.OutputTail());
            await host.StopAsync();
            return measured;
        }
        finally
        {
            receiver.Phase = null;
            await host.DisposeAsync();
        }
    }
}
