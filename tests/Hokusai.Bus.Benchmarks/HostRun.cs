using System.Globalization;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The real consumer host (src/Hokusai.Bus.Host, Release build) as a child process through
/// <see cref="HostProcess"/>, plus what /proc says about it: peak resident memory (VmHWM) and CPU time.
/// </summary>
internal sealed class HostRun : IAsyncDisposable
{
    private readonly HostProcess _host;

    private HostRun(HostProcess host, int pid)
    {
        _host = host;
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>The host's own HTTP address (health, /metrics, /ingest).</summary>
    public Uri BaseUrl => _host.BaseUrl;

    public string Output => _host.Output;

    public static async Task<HostRun> StartAsync(
        Uri webhookUrl, string secret, string rabbitMqUrl, int concurrency, IReadOnlyDictionary<string, string> extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["WEBHOOK_URL"] = webhookUrl.ToString(),
            ["WEBHOOK_SECRET"] = secret,
            ["RABBITMQ_URL"] = rabbitMqUrl,
            ["WEBHOOK_CONCURRENCY"] = concurrency.ToString(CultureInfo.InvariantCulture),
            ["MASSTRANSIT_USAGE_TELEMETRY"] = "false",
            // HostProcess turns Hokusai.Bus up to Debug for the tests; a benchmark measures delivery, not logging.
            // MassTransit stays at Information: HostProcess waits for its "Bus started" line.
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Hokusai.Bus"] = "Warning",
            ["Logging__LogLevel__MassTransit"] = "Information",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        var host = await HostProcess.StartAsync(environment);
        return new HostRun(host, FindPid(host.Port));
    }

    /// <summary>Peak resident set size in KiB (VmHWM of /proc/&lt;pid&gt;/status).</summary>
    public long PeakRssKb() => StatusKb("VmHWM:");

    /// <summary>Current resident set size in KiB.</summary>
    public long RssKb() => StatusKb("VmRSS:");

    /// <summary>User plus system CPU time of the host so far.</summary>
    public TimeSpan CpuTime() => ProcessCpu(Pid);

    public static TimeSpan ProcessCpu(int pid)
    {
        return TimeSpan.FromSeconds(StatTicks($"/proc/{pid}/stat") / (double)ClockTicksPerSecond);
    }

    /// <summary>
    /// User plus system CPU of a <c>/proc</c> stat file (a process's or a thread's), in clock ticks: "pid (comm) state ..."
    /// with utime and stime the 14th and 15th fields.
    /// </summary>
    private static long StatTicks(string path)
    {
        var stat = File.ReadAllText(path);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// CPU time of the process's tiered-compilation thread (<c>.NET Tiered Com</c>) so far: the JIT recompiling hot
    /// methods optimized in the background. A large process (ASP.NET Core, MassTransit, OpenTelemetry) keeps it busy
    /// for many seconds under load after starting; a measurement taken before it is quiet measures the JIT, not the code.
    /// </summary>
    public static TimeSpan TieredCompilerCpu(int pid) => TimeSpan.FromSeconds(ByThread(pid, task =>
        File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal)
            ? StatTicks(Path.Combine(task, "stat"))
            : 0).Values.Sum() / (double)ClockTicksPerSecond);

    /// <summary>
    /// Context switches of each of the process's live threads so far, voluntary and not (<c>/proc/PID/task/*/status</c>),
    /// for <see cref="ContextSwitchesSince"/>: on a virtual machine each one is a trip through the hypervisor, so a
    /// thread woken per message is a cost to count.
    /// </summary>
    public static Dictionary<string, long> ContextSwitches(int pid) => ByThread(pid, task => File.ReadLines(Path.Combine(task, "status"))
        .Where(line => line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                       || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
        .Sum(line => long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture)));

    /// <summary>
    /// Context switches since <paramref name="before"/>, thread by thread: a thread that ended meanwhile takes its count
    /// with it (the figure is then low, never below zero, as a sum over the live threads was when a thread-pool thread retired).
    /// </summary>
    public static long ContextSwitchesSince(int pid, Dictionary<string, long> before) =>
        ContextSwitches(pid).Sum(thread => thread.Value - before.GetValueOrDefault(thread.Key));

    /// <summary><paramref name="read"/> of each live thread's <c>/proc/PID/task/TID</c> folder, by thread id; a thread that ends meanwhile is left out.</summary>
    private static Dictionary<string, long> ByThread(int pid, Func<string, long> read)
    {
        var byThread = new Dictionary<string, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                byThread[Path.GetFileName(task)] = read(task);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return byThread;
    }

    public async Task StopAsync() => await _host.StopAsync(TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public string OutputTail(int lines = 30) =>
        string.Join('\n', Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    private long StatusKb(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>
    /// HostProcess does not expose its process, so find it in /proc: our child whose command line runs the host's dll
    /// with its <c>--urls</c> port (<c>dotnet Hokusai.Bus.Host.dll</c> runs the app inside that same process).
    /// </summary>
    private static int FindPid(int port)
    {
        var urls = $"127.0.0.1:{port}";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (commandLine.Contains("Hokusai.Bus.Host.dll", StringComparison.Ordinal)
                    && commandLine.Contains(urls, StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        throw new InvalidOperationException($"host process with --urls {urls} not found in /proc");
    }

    internal static readonly long ClockTicksPerSecond = ReadClockTicks();

    private static long ReadClockTicks()
    {
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK")
            {
                RedirectStandardOutput = true,
            })!;
            var text = getconf.StandardOutput.ReadToEnd().Trim();
            getconf.WaitForExit();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var hz) && hz > 0 ? hz : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}

/// <summary>The local RabbitMQ server process (beam.smp), read-only: its CPU time, to show the broker's share per message.</summary>
internal static class Broker
{
    private static readonly Lazy<int?> Pid = new(() =>
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    && File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "beam.smp"
                    && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("rabbit", StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    });

    /// <summary>CPU time of the broker so far; zero when it is not a local process.</summary>
    public static TimeSpan CpuTime()
    {
        try
        {
            return Pid.Value is { } pid ? HostRun.ProcessCpu(pid) : TimeSpan.Zero;
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }
}

/// <summary>
/// CPU time used on the whole machine (/proc/stat), to tell how much of it went to processes other than the host,
/// the broker and this benchmark: on a shared machine that is what makes two runs differ.
/// </summary>
internal static class Machine
{
    public static TimeSpan BusyTime()
    {
        // "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int i) => i < fields.Length ? long.Parse(fields[i], CultureInfo.InvariantCulture) : 0;
        var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return TimeSpan.FromSeconds(busy / (double)HostRun.ClockTicksPerSecond);
    }

    public static TimeSpan SelfTime() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Starts measuring; <see cref="Snapshot.OtherCores"/> gives the load of everything else since.</summary>
    public static Snapshot Start(HostRun host) => new(host, System.Diagnostics.Stopwatch.GetTimestamp(), BusyTime(),
        host.CpuTime(), Broker.CpuTime(), SelfTime());

    public sealed record Snapshot(HostRun Host, long At, TimeSpan Busy, TimeSpan HostCpu, TimeSpan BrokerCpu, TimeSpan Self)
    {
        /// <summary>Cores used on average by processes other than the host, the broker and this one.</summary>
        public double OtherCores()
        {
            var wall = System.Diagnostics.Stopwatch.GetElapsedTime(At).TotalSeconds;
            var other = BusyTime() - Busy - (Host.CpuTime() - HostCpu) - (Broker.CpuTime() - BrokerCpu) - (SelfTime() - Self);
            return Math.Max(0, other.TotalSeconds / wall);
        }
    }
}
