using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Benchmarks.Micro;

/// <summary>
/// What reading a registration costs: <see cref="ModelRegisteredJson.TryDeserialize"/> (its one-pass read of the usual
/// registration, the serializer for the rest) against System.Text.Json's source-generated reader alone, as every body
/// was read before. The body is the one <c>bench.sh ingest</c> POSTs: Python's <c>json.dumps</c>, padded with an extra
/// metadata key.
/// </summary>
[MemoryDiagnoser]
public class ReadBenchmarks
{
    private byte[] _body = null!;

    [Params(1024, 16 * 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup() => _body = new Payload(PayloadBytes).Body(0, 0);

    /// <summary>The serializer's reader alone.</summary>
    [Benchmark(Baseline = true)]
    public ModelRegistered? Serializer() => JsonSerializer.Deserialize<ModelRegistered>(_body, ModelRegisteredJson.Options);

    /// <summary>The contracts' reader, as the delivery consumer and <c>/ingest</c> call it.</summary>
    [Benchmark]
    public ModelRegistered? TryDeserialize() => ModelRegisteredJson.TryDeserialize(_body, out var message, out _) ? message : null;
}
