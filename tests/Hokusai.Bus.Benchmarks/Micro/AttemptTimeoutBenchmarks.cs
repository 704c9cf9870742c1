using BenchmarkDotNet.Attributes;
using Polly;
using Polly.Timeout;

namespace Hokusai.Bus.Benchmarks.Micro;

/// <summary>
/// What bounding one HTTP attempt by <c>WEBHOOK_TIMEOUT</c> costs, around an attempt that does nothing (so only the
/// timeout's own cost shows): by hand, a timed <see cref="CancellationTokenSource"/> linked to the caller's token (what
/// the host did), against Polly's timeout strategy in a pipeline built once (what it does now). An attempt that yields
/// once is measured too, as a real attempt completes asynchronously.
/// </summary>
[MemoryDiagnoser]
public class AttemptTimeoutBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _caller = new();
    private ResiliencePipeline _pipeline = null!;

    [GlobalSetup]
    public void Setup() =>
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = TimeProvider.System }
            .AddTimeout(new TimeoutStrategyOptions { Timeout = Timeout })
            .Build();

    [Benchmark(Baseline = true)]
    public async Task<int> ByHand()
    {
        using var timeout = new CancellationTokenSource(Timeout, TimeProvider.System);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_caller.Token, timeout.Token);
        return await Attempt(attempt.Token);
    }

    [Benchmark]
    public async Task<int> Polly() =>
        await _pipeline.ExecuteAsync(static (token) => new ValueTask<int>(Attempt(token)), _caller.Token);

    [Benchmark]
    public async Task<int> ByHandYielding()
    {
        using var timeout = new CancellationTokenSource(Timeout, TimeProvider.System);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_caller.Token, timeout.Token);
        return await Yielding(attempt.Token);
    }

    [Benchmark]
    public async Task<int> PollyYielding() =>
        await _pipeline.ExecuteAsync(static token => new ValueTask<int>(Yielding(token)), _caller.Token);

    private static Task<int> Attempt(CancellationToken token) => Task.FromResult(token.CanBeCanceled ? 1 : 0);

    private static async Task<int> Yielding(CancellationToken token)
    {
        await Task.Yield();
        return token.CanBeCanceled ? 1 : 0;
    }
}
