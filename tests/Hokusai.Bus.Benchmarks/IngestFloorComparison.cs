using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using RabbitMQ.Client;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// <c>/ingest</c> against its floor (<see cref="IngestFloor"/>) in one run, with the same load client
/// (<see cref="RawHttpLoad"/>) at the same concurrency: signed 1 KB registrations POSTed until 202. Every process is
/// started once, on its own virtual host, and warmed up until its JIT is quiet; then each round measures one segment of
/// each, back to back, each round starting one process further down the list. Segments seconds apart see the same
/// machine: this machine's speed drifts by tens of per cent over minutes, which a process started and measured minutes
/// after the other carried into its ratio. The host runs as in production (logs at Information, metrics, delivery
/// log), and its delivery is moved aside the way the floor has none: the registrations' exchange is bound to a queue
/// nobody consumes, as the floor publishes to one, so both pay for the same broker work and only the front half is
/// compared. (Delivery has its own floor: <c>bench.sh floor</c>.)
/// </summary>
internal static class IngestFloorComparison
{
    public const double CpuTarget = 1.3;
    public const double RateTarget = 0.9;
    public const double P99Target = 1.25;

    private const string IngestSecret = "bench-ingest-secret";
    private const string Sink = "hokusai-bench-ingest-sink";

    private sealed record Row(
        double PerSecond, double P50, double P99, double CpuMicros, double ClientMicros, double ContextSwitches, double BrokerMicros);

    /// <summary>
    /// What a round can measure, by the name <c>--only</c> takes. The floor runs as two instances, always, and its
    /// figures in a round are the mean of the two: one process started once for a whole run can be faster or slower than
    /// another started the same way (their p99 medians differed by 1.39x in one run), and one instance made every ratio
    /// of that run its luck. The host runs as two instances too, for the same reason (one process's median moved by
    /// about 0.2x from one run to the next), and the targets compare the two means.
    /// </summary>
    private static readonly (string Name, string Label, string? Variant)[] Processes =
    [
        ("floor", "floor (minimal Kestrel endpoint)", null),
        ("again", "floor, its second instance", null),
        ("masstransit", "floor, publishing with MassTransit", "masstransit"),
        ("bare", "floor, publishing the host's message", "bare"),
        ("key", "floor, publishing the key alone", "key"),
        ("log", "floor, writing the delivery log too", "log"),
        ("validate", "floor, validating as /ingest does", "validate"),
        ("json", "floor, reading the body as JSON", "json"),
        ("reader", "floor, reading as /ingest reads", "reader"),
        ("full", "floor, ASP.NET Core's full builder", "full"),
        ("bus", "floor, with an idle MassTransit bus", "bus"),
        ("timeout", "floor, with the host's confirm timer", "timeout"),
        ("host", "host /ingest (production defaults)", null),
        ("host2", "host /ingest, its second instance", null),
    ];

    /// <summary>The names <c>--only</c> takes; all of them run unless it says otherwise.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Processes.Select(p => p.Name)];

    public static async Task RunAsync(
        BenchReceiver receiver, Payload payload, int rounds, int count, int concurrency, IReadOnlyDictionary<string, string> hostEnvironment,
        IReadOnlyList<(string Label, Dictionary<string, string> Settings)> variants, IReadOnlyCollection<string> only)
    {
        Console.WriteLine($"[ingest floor] {payload.Label} registrations, concurrency {concurrency}, {count:N0} per segment, {rounds} round(s), "
                          + "POST to 202 after the broker's confirm; every process started and warmed up once, then one segment of each "
                          + "per round, each round starting one process further down the list");
        var starts = Processes
            .Where(p => p.Name is "floor" or "again" or "host" or "host2" || only.Contains(p.Name))
            .Select(p => (p.Name, p.Label, Start: p.Name is "host" or "host2"
                ? () => StartHostAsync(receiver, concurrency, hostEnvironment)
                : (Func<Task<Server>>)(() => StartFloorAsync(p.Variant))))
            // The same host with some settings changed: the toggles that find a cost, in the same round.
            .Concat(variants.Select(v => (Name: v.Label, v.Label, Start: (Func<Task<Server>>)(() =>
                StartHostAsync(receiver, concurrency, FloorBenchmark.With(hostEnvironment, v.Settings))))))
            .ToList();
        var contenders = new List<Contender>();
        try
        {
            foreach (var (name, label, start) in starts)
            {
                var server = await start();
                var contender = new Contender(name, label, server, await RawHttpLoad.ConnectAsync(server.Url, concurrency), payload);
                contenders.Add(contender);
                await contender.WarmUpAsync(count);
                Console.WriteLine($"  started  {label,-36} warm-up {contender.WarmUp.TotalSeconds:0} s, "
                                  + (contender.JitSettled ? "JIT quiet" : "JIT still compiling"));
            }

            await MeasureAsync(contenders, rounds, count, variants);
        }
        finally
        {
            foreach (var contender in contenders)
            {
                await contender.DisposeAsync();
            }
        }
    }

    private static async Task MeasureAsync(List<Contender> contenders, int rounds, int count,
        IReadOnlyList<(string Label, Dictionary<string, string> Settings)> variants)
    {
        var measured = contenders.ToDictionary(c => c.Name, _ => new List<Row>());
        var floors = new List<Row>(); // each round's floor: the mean of its two instances
        var hosts = new List<Row>(); // and the host's
        for (var round = 1; round <= rounds; round++)
        {
            var start = (round - 1) % contenders.Count;
            foreach (var contender in contenders.Skip(start).Concat(contenders.Take(start)))
            {
                measured[contender.Name].Add(await contender.MeasureAsync(count));
            }

            var floor = Mean(measured["floor"][^1], measured["again"][^1]);
            floors.Add(floor);
            hosts.Add(Mean(measured["host"][^1], measured["host2"][^1]));
            foreach (var contender in contenders)
            {
                Print(round, contender.Label, measured[contender.Name][^1], floor);
            }

            Print(round, "the floor: its two instances' mean", floor, floor);
            Print(round, "the host: its two instances' mean", hosts[^1], floor);
        }

        foreach (var contender in contenders)
        {
            await contender.CheckStoredAsync(rounds * count);
        }

        List<Row> Rows(string name) => measured.GetValueOrDefault(name, []);
        var massTransit = Rows("masstransit");
        var bare = Rows("bare");
        var keyOnly = Rows("key");
        var again = Rows("again");
        var first = Rows("floor");
        var others = variants.ToDictionary(v => v.Label, v => measured[v.Label]);
        var cpu = Median(hosts, floors, CpuRatio);
        var rate = Median(hosts, floors, RateRatio);
        var p99 = Median(hosts, floors, P99Ratio);
        Console.WriteLine();
        if (massTransit.Count > 0)
        {
            Console.WriteLine($"  MassTransit's publish alone, median of {rounds}: CPU per registration {Median(massTransit, floors, CpuRatio):0.00}x the floor's; "
                              + $"the host against that floor {Median(hosts, massTransit, CpuRatio):0.00}x");
        }

        if (bare.Count > 0)
        {
            Console.WriteLine($"  the host's message alone (a fanout exchange, the event in properties), median of {rounds}: "
                              + $"msg/s {Median(bare, floors, RateRatio):0.00}x the floor's, p99 {Median(bare, floors, P99Ratio):0.00}x; "
                              + $"the host against that floor: CPU {Median(hosts, bare, CpuRatio):0.00}x, "
                              + $"msg/s {Median(hosts, bare, RateRatio):0.00}x, p99 {Median(hosts, bare, P99Ratio):0.00}x");
        }

        if (keyOnly.Count > 0)
        {
            Console.WriteLine($"  the least message that carries the event (the host's content type, the key as message_id, the fanout exchange), "
                              + $"median of {rounds}: msg/s {Median(keyOnly, floors, RateRatio):0.00}x the floor's, p99 {Median(keyOnly, floors, P99Ratio):0.00}x");
        }

        if (Rows("validate") is { Count: > 0 } validating)
        {
            // The guide requires the check (a bad field is a 400 naming it, nothing published); the floor skips it.
            Console.WriteLine($"  the floor validating as /ingest does (the guide's check), median of {rounds}: CPU {Median(validating, floors, CpuRatio):0.00}x the floor's, "
                              + $"msg/s {Median(validating, floors, RateRatio):0.00}x; the host against that floor: CPU {Median(hosts, validating, CpuRatio):0.00}x, "
                              + $"msg/s {Median(hosts, validating, RateRatio):0.00}x, p99 {Median(hosts, validating, P99Ratio):0.00}x");
        }

        PrintNoise("the floor's second instance against its first", again, first);
        PrintNoise("the host's second instance against its first", Rows("host2"), Rows("host"));

        // What the broker spends per registration, for each process's messages: its share of the two cores decides msg/s.
        Console.WriteLine($"  medians of {rounds} against the floor (its two instances' mean): CPU   broker   msg/s   p99");
        foreach (var contender in contenders)
        {
            double Of(Func<Row, Row, double> ratio) => Median(measured[contender.Name], floors, ratio);
            Console.WriteLine($"    {contender.Label,-40} {Of(CpuRatio),5:0.00}x {Of((r, f) => r.BrokerMicros / f.BrokerMicros),5:0.00}x "
                              + $"{Of(RateRatio),5:0.00}x {Of(P99Ratio),5:0.00}x");
        }

        Console.WriteLine($"    {"the host: its two instances' mean",-40} {cpu,5:0.00}x "
                          + $"{Median(hosts, floors, (r, f) => r.BrokerMicros / f.BrokerMicros),5:0.00}x {rate,5:0.00}x {p99,5:0.00}x");

        PrintByRate(first.Concat(again).ToList(), Rows("host").Concat(Rows("host2")).ToList());
        Console.WriteLine($"  host /ingest (its two instances' mean) against its floor, median of {rounds}: CPU per registration {cpu:0.00}x (target <= {CpuTarget}x), "
                          + $"msg/s {rate:0.00}x (target >= {RateTarget}x), p99 {p99:0.00}x (target <= {P99Target}x): "
                          + (cpu <= CpuTarget && rate >= RateTarget && p99 <= P99Target ? "met" : "not met"));
        foreach (var (label, rows) in others)
        {
            Console.WriteLine($"  {label} against the host, median of {rounds}: CPU per registration "
                              + $"{Median(rows, hosts, CpuRatio):0.00}x, msg/s {Median(rows, hosts, RateRatio):0.00}x");
        }

        Console.WriteLine();
    }

    /// <summary>How far a process's second instance is from its first: the noise in every ratio of the run.</summary>
    private static void PrintNoise(string what, IReadOnlyList<Row> second, IReadOnlyList<Row> first)
    {
        static string Spread(IEnumerable<double> ratios) => string.Join(", ", ratios.Select(r => r.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "x"));
        Console.WriteLine($"  {what}, round by round: CPU {Spread(second.Zip(first, CpuRatio))}; "
                          + $"msg/s {Spread(second.Zip(first, RateRatio))}; p99 {Spread(second.Zip(first, P99Ratio))}");
        Console.WriteLine($"    medians: CPU {Median(second, first, CpuRatio):0.00}x, msg/s {Median(second, first, RateRatio):0.00}x, "
                          + $"p99 {Median(second, first, P99Ratio):0.00}x");
    }

    /// <summary>
    /// The floor's segments and the host's side by side, grouped by the rate they ran at (1,000/s bands): what the broker
    /// spent per registration, and what the server did. The broker spends less per message the faster messages come, so
    /// whether a process's messages cost the broker more shows only at equal rates.
    /// </summary>
    private static void PrintByRate(IReadOnlyList<Row> floors, IReadOnlyList<Row> hosts)
    {
        Console.WriteLine("  by rate (every segment): rate band        floor: n  broker µs  CPU µs     host: n  broker µs  CPU µs");
        foreach (var band in floors.Concat(hosts).Select(r => (int)(r.PerSecond / 1000)).Distinct().Order())
        {
            string Cell(IReadOnlyList<Row> rows)
            {
                var inBand = rows.Where(r => (int)(r.PerSecond / 1000) == band).ToList();
                return inBand.Count == 0
                    ? $"{"-",9} {"",10} {"",7}"
                    : $"{inBand.Count,9} {FloorBenchmark.Median(inBand.Select(r => r.BrokerMicros)),10:N0} {FloorBenchmark.Median(inBand.Select(r => r.CpuMicros)),7:N0}";
            }

            Console.WriteLine($"    {band * 1000,7:N0} to {band * 1000 + 999,5:N0}/s          {Cell(floors)}    {Cell(hosts)}");
        }
    }

    /// <summary>The median over the rounds of <paramref name="ratio"/> of each round's row to the same round's in <paramref name="against"/>.</summary>
    private static double Median(IEnumerable<Row> rows, IEnumerable<Row> against, Func<Row, Row, double> ratio) =>
        FloorBenchmark.Median(rows.Zip(against, ratio));

    private static double CpuRatio(Row row, Row against) => row.CpuMicros / against.CpuMicros;

    private static double RateRatio(Row row, Row against) => row.PerSecond / against.PerSecond;

    private static double P99Ratio(Row row, Row against) => row.P99 / against.P99;

    /// <summary>A round's figures for a process run twice: the mean of its two instances' (a latency the mean of their p50s and p99s).</summary>
    private static Row Mean(Row a, Row b) => new(
        (a.PerSecond + b.PerSecond) / 2, (a.P50 + b.P50) / 2, (a.P99 + b.P99) / 2, (a.CpuMicros + b.CpuMicros) / 2,
        (a.ClientMicros + b.ClientMicros) / 2, (a.ContextSwitches + b.ContextSwitches) / 2, (a.BrokerMicros + b.BrokerMicros) / 2);

    private static void Print(int round, string what, Row row, Row floor) =>
        Console.WriteLine($"  round {round}  {what,-36} {row.PerSecond,8:N0}/s  p50 {row.P50:0.00} ms  p99 {row.P99:0.00} ms  "
                          + $"{row.CpuMicros,5:N0} µs CPU/registration ({row.CpuMicros / floor.CpuMicros:0.00}x)  "
                          + $"broker {row.BrokerMicros:N0} µs ({row.BrokerMicros / floor.BrokerMicros:0.00}x)  "
                          + $"{row.ContextSwitches:0.0} context switches  load client {row.ClientMicros:N0} µs");

    /// <summary>A server under test: where to POST, its process, the queue it stores in, and what to stop.</summary>
    private sealed record Server(Uri Url, int Pid, Uri Amqp, string Queue, string What, Func<ValueTask> Stop);

    private static async Task<Server> StartFloorAsync(string? variant)
    {
        var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench-ingest-floor");
        var floor = await IngestFloor.Child.StartAsync(vhost.AmqpUrl, IngestSecret, variant);
        return new Server(new Uri(floor.Url, "ingest"), floor.Pid, vhost.AmqpUrl, IngestFloor.Queue, "the floor's publishes", async () =>
        {
            await floor.DisposeAsync();
            await vhost.DisposeAsync();
        });
    }

    private static async Task<Server> StartHostAsync(BenchReceiver receiver, int concurrency, IReadOnlyDictionary<string, string> extra)
    {
        var vhost = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-bench-ingest");
        var environment = new Dictionary<string, string>(FloorBenchmark.Production) { ["INGEST_SECRET"] = IngestSecret };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        var host = await HostRun.StartAsync(receiver.Url, "bench-secret-not-a-real-one", vhost.AmqpUrl.ToString(), concurrency, environment);
        await DivertAsync(vhost.AmqpUrl);
        return new Server(new Uri(host.BaseUrl, "ingest"), host.Pid, vhost.AmqpUrl, Sink, "the host's delivery moved aside", async () =>
        {
            await host.DisposeAsync();
            await vhost.DisposeAsync();
        });
    }

    /// <summary>One process of the comparison, kept running for the whole run, with its own load client and keys.</summary>
    private sealed class Contender(string name, string label, Server server, RawHttpLoad load, Payload payload) : IAsyncDisposable
    {
        private readonly WebhookSigner _signer = new(IngestSecret, SignatureFormat.Sha256Prefixed);
        private int _phase = 900;
        private int _sent;

        public string Name => name;

        public string Label => label;

        public TimeSpan WarmUp { get; private set; }

        public bool JitSettled { get; private set; }

        /// <summary>
        /// Steady state: the host is a far larger program than the floor, and its JIT goes on optimizing hot code in the
        /// background for many seconds under load; measured before it is quiet, that JIT was most of the gap.
        /// </summary>
        public async Task WarmUpAsync(int count) =>
            (WarmUp, JitSettled) = await E2eBenchmark.WarmUpUntilJitSettlesAsync(
                () => RunAsync(Requests(Math.Min(count, 3_000))), server.Pid, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(90));

        /// <summary>One segment: <paramref name="count"/> registrations, built and signed before the clock starts.</summary>
        public async Task<Row> MeasureAsync(int count)
        {
            var requests = Requests(count);
            var cpu = HostRun.ProcessCpu(server.Pid);
            var switches = HostRun.ContextSwitches(server.Pid);
            var client = Machine.SelfTime();
            var broker = Broker.CpuTime();
            var (perSecond, ms) = await RunAsync(requests);
            var brokerMicros = (Broker.CpuTime() - broker).TotalMilliseconds * 1000 / count;
            var cpuMicros = (HostRun.ProcessCpu(server.Pid) - cpu).TotalMilliseconds * 1000 / count;
            var switchesPer = HostRun.ContextSwitchesSince(server.Pid, switches) / (double)count;
            var clientMicros = (Machine.SelfTime() - client).TotalMilliseconds * 1000 / count;
            var latency = Percentiles.Of(ms);
            return new Row(perSecond, latency.P50, latency.P99, cpuMicros, clientMicros, switchesPer, brokerMicros);
        }

        /// <summary>
        /// Every registration sent is stored in the server's queue, counted by the broker itself (the management API's
        /// figures are sampled every few seconds): a publish the broker could not route is confirmed at once and stored
        /// nowhere, and would measure nothing.
        /// </summary>
        public async Task CheckStoredAsync(int measured)
        {
            await using var connection = await new ConnectionFactory { Uri = server.Amqp }.CreateConnectionAsync("bench check");
            await using var channel = await connection.CreateChannelAsync();
            var stored = (await channel.QueueDeclarePassiveAsync(server.Queue)).MessageCount;
            if (stored < _sent)
            {
                throw new InvalidOperationException($"only {stored} of {_sent} registrations ({measured} measured) reached {server.Queue} "
                                                    + $"({server.What}): the run measured publishes stored nowhere");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await load.DisposeAsync();
            await server.Stop();
        }

        private async Task<(double PerSecond, List<double> Milliseconds)> RunAsync(List<byte[]> requests)
        {
            var result = await load.RunAsync(requests, 202);
            _sent += requests.Count;
            return result;
        }

        private List<byte[]> Requests(int n)
        {
            var id = ++_phase;
            return [.. Enumerable.Range(0, n).Select(seq =>
            {
                var body = payload.Body(id, seq);
                return RawHttpLoad.Post(server.Url, body, (WebhookHeaders.Signature, _signer.Sign(body)), (WebhookHeaders.IdempotencyKey, Phase.Key(id, seq)));
            })];
        }
    }

    /// <summary>
    /// The registrations' exchange bound to a durable queue nobody consumes (the broker stores each one, as for the
    /// floor) instead of the host's delivery queue. Checked after the run: every registration is in that queue.
    /// </summary>
    private static async Task DivertAsync(Uri amqp)
    {
        await using var connection = await new ConnectionFactory { Uri = amqp }.CreateConnectionAsync("bench divert");
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(Sink, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(Sink, PipelineEventExchange, "");
        await channel.ExchangeUnbindAsync(HokusaiQueuesDefault, PipelineEventExchange, "");
    }

    private const string PipelineEventExchange = "Hokusai.Bus.Contracts:PipelineEvent";
    private const string HokusaiQueuesDefault = "hokusai-webhook-delivery"; // HokusaiQueues.WebhookDelivery
}
