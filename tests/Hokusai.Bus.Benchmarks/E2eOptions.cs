using System.Globalization;

namespace Hokusai.Bus.Benchmarks;

/// <summary>What an <c>e2e</c> run measures; every count and list can be overridden from the command line.</summary>
internal sealed class E2eOptions
{
    public const string Usage = """
        e2e options (defaults are the quick mode, a few minutes on 2 cores):
          --full                   larger counts and the 100k backlog
          --scenarios LIST         any of sweep,sizes,backlog,remote (default: all)
          --concurrency N          WEBHOOK_CONCURRENCY for sizes, backlog and remote (default 32, the host's default)
          --sweep LIST             WEBHOOK_CONCURRENCY values tried at 1 KB (default 16,32,64)
          --sizes LIST             payload sizes in KB (default 1,16,256)
          --count N                messages per live run at 1 KB (default 20000, full 60000; fewer above 4 KB)
          --backlog LIST           backlog sizes (default 1000,10000; full 1000,10000,100000)
          --remote-ms N            receiver answer delay of the 'remote' scenario (a real endpoint's latency), run at every
                                   --sweep concurrency (default 20)
          --paced-seconds S        length of the paced latency phase (default 3)
          --paced-rate R           rate of the paced phase in msg/s (default: half the measured e2e rate); fix it to
                                   compare host CPU per message between runs
          --no-baselines           skip raw HTTP, raw AMQP and the peer (for quick A/B runs of host settings)
          --peer-seconds S         time budget of the sequential peer (default 3)
          --window N               publisher confirms outstanding at once (default 128)
          --host-env KEY=VALUE     extra environment for the host process (repeatable), e.g. DOTNET_gcServer=0
          --output PATH            result file (default artifacts/bench/result.json)
          --dump DIR               also write each measured phase as CSV (seq, sent_ms, latency_ms) into DIR
        """;

    public bool Help { get; private set; }

    public bool Full { get; private set; }

    public HashSet<string> Scenarios { get; private set; } = ["sweep", "sizes", "backlog", "remote"];

    public int Concurrency { get; private set; } = 32;

    public List<int> Sweep { get; private set; } = [16, 32, 64];

    public List<int> SizesKb { get; private set; } = [1, 16, 256];

    public int Count { get; private set; } = 20_000;

    public List<int> Backlog { get; private set; } = [1_000, 10_000];

    public int RemoteMs { get; private set; } = 20;

    public double PacedSeconds { get; private set; } = 3;

    public double PeerSeconds { get; private set; } = 3;

    public double? PacedRate { get; private set; }

    public bool Baselines { get; private set; } = true;

    public int Window { get; private set; } = 128;

    public Dictionary<string, string> HostEnvironment { get; } = [];

    public string? Output { get; private set; }

    public string? DumpDirectory { get; private set; }

    public string[] Arguments { get; private set; } = [];

    /// <summary>Messages of a live run at <paramref name="sizeBytes"/>: <see cref="Count"/> up to 4 KB, then fewer (Count × 4 KB / size), at least 400.</summary>
    public int CountFor(int sizeBytes) => Math.Max(400, (int)(Count * Math.Min(1.0, 4096.0 / sizeBytes)));

    public static E2eOptions Parse(string[] args)
    {
        var o = new E2eOptions { Arguments = args };
        var countSet = false;
        var backlogSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "-h" or "--help":
                    o.Help = true;
                    break;
                case "--full":
                    o.Full = true;
                    break;
                case "--scenarios":
                    o.Scenarios = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    foreach (var s in o.Scenarios.Where(s => s is not ("sweep" or "sizes" or "backlog" or "remote")))
                    {
                        throw new ArgumentException($"unknown scenario '{s}'.");
                    }

                    break;
                case "--concurrency":
                    o.Concurrency = Int(Value(), name);
                    break;
                case "--sweep":
                    o.Sweep = Ints(Value(), name);
                    break;
                case "--sizes":
                    o.SizesKb = Ints(Value(), name);
                    break;
                case "--count":
                    o.Count = Int(Value(), name);
                    countSet = true;
                    break;
                case "--backlog":
                    o.Backlog = Ints(Value(), name);
                    backlogSet = true;
                    break;
                case "--remote-ms":
                    o.RemoteMs = Int(Value(), name);
                    break;
                case "--paced-seconds":
                    o.PacedSeconds = Double(Value(), name);
                    break;
                case "--paced-rate":
                    o.PacedRate = Double(Value(), name);
                    break;
                case "--no-baselines":
                    o.Baselines = false;
                    break;
                case "--peer-seconds":
                    o.PeerSeconds = Double(Value(), name);
                    break;
                case "--window":
                    o.Window = Int(Value(), name);
                    break;
                case "--host-env":
                    var pair = Value();
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--host-env needs KEY=VALUE; got '{pair}'.");
                    }

                    o.HostEnvironment[pair[..eq]] = pair[(eq + 1)..];
                    break;
                case "--dump":
                    o.DumpDirectory = Value();
                    break;
                case "--output":
                    o.Output = Value();
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}'.");
            }
        }

        if (o.Full)
        {
            if (!countSet)
            {
                o.Count = 60_000;
            }

            if (!backlogSet)
            {
                o.Backlog = [1_000, 10_000, 100_000];
            }
        }

        return o;
    }

    private static int Int(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive whole number; got '{value}'.");

    private static double Double(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
            ? d
            : throw new ArgumentException($"{name} must be a positive number; got '{value}'.");

    private static List<int> Ints(string value, string name) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Int(v, name))];
}
