using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Benchmarks.Micro;

/// <summary>
/// What every delivery pays in the contracts: the body serialized and signed (the host, per message) and verified
/// (the receiver, per request), at the e2e benchmark's payload sizes.
/// </summary>
[MemoryDiagnoser]
public class ContractBenchmarks
{
    private const string Secret = "bench-secret-not-a-real-one";
    private ModelRegistered _registration = null!;
    private byte[] _body = null!;
    private string _signature = null!;
    private WebhookSigner _signer = null!;
    private WebhookVerifier _verifier = null!;

    [Params(1024, 16 * 1024, 256 * 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var payload = new Payload(PayloadBytes);
        _registration = payload.Registration;
        _signer = new WebhookSigner(Secret);
        _verifier = new WebhookVerifier(Secret);
        _body = ModelRegisteredJson.Serialize(_registration);
        _signature = _signer.Sign(_body);
    }

    /// <summary>ModelRegisteredJson.Serialize + WebhookSigner.Sign: the host's per-delivery body and header.</summary>
    [Benchmark(Baseline = true)]
    public string SerializeAndSign() => _signer.Sign(ModelRegisteredJson.Serialize(_registration));

    /// <summary>WebhookSigner.Sign alone, so that SerializeAndSign - Sign is the serializer's share.</summary>
    [Benchmark]
    public string Sign() => _signer.Sign(_body);

    /// <summary>WebhookVerifier.Verify over the raw body: a receiver's per-request check.</summary>
    [Benchmark]
    public bool Verify() => _verifier.Verify(_body, _signature);

    /// <summary>ModelRegisteredJson.Deserialize of the raw bytes, for scale (the host reads with MassTransit's serializer).</summary>
    [Benchmark]
    public ModelRegistered Deserialize() => ModelRegisteredJson.Deserialize(_body);
}

internal static class MicroBenchmarks
{
    /// <summary>
    /// A short job (3 warm-ups, 3 iterations) run in this process, so the whole set ends in about a minute; results
    /// also go to artifacts/bench/micro (markdown and JSON).
    /// </summary>
    public static void Run(string[] args)
    {
        var config = ManualConfig.CreateEmpty()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .AddExporter(JsonExporter.Full)
            .WithArtifactsPath(Path.Combine(Report.RepositoryRoot(), "artifacts", "bench", "micro"))
            .WithOptions(ConfigOptions.JoinSummary);
        BenchmarkSwitcher.FromTypes([typeof(ContractBenchmarks), typeof(ReadBenchmarks), typeof(AttemptTimeoutBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
    }
}
