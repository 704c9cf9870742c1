using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Hokusai.Bus;

/// <summary>
/// The quick retries of one Redis write, in the host: <c>REDIS_MAX_RETRIES</c> of them, the first after
/// <c>REDIS_RETRY_DELAY</c>, doubling, at most 30 s apart, only for failures that mean Redis is unavailable
/// (<see cref="RedisFailure.IsTransient"/>). A Polly retry pipeline built once; past it, the message waits in RabbitMQ.
/// </summary>
internal sealed class RedisWriteRetry
{
    private readonly ResiliencePipeline _pipeline;

    public RedisWriteRetry(IOptions<HokusaiRedisOptions> options, RedisFallbackMetrics metrics, TimeProvider time)
    {
        var settings = options.Value;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryDelay,
                MaxDelay = RedisFailure.MaxWait,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && RedisFailure.IsTransient(e) && !args.Context.CancellationToken.IsCancellationRequested),
                OnRetry = _ =>
                {
                    metrics.Retried();
                    return default;
                },
            });
        }

        _pipeline = builder.Build();
    }

    /// <summary>Runs <paramref name="write"/> until it succeeds, fails for good, or the quick retries are spent; counts the tries in <paramref name="tries"/>.</summary>
    public ValueTask<long> ExecuteAsync<TState>(
        Func<TState, CancellationToken, Task<long>> write, TState state, Tries tries, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (s, token) =>
            {
                s.Tries.Count++;
                return new ValueTask<long>(s.Write(s.State, token));
            },
            (Write: write, State: state, Tries: tries), cancellationToken);

    /// <summary>How many times the write was tried.</summary>
    public sealed class Tries
    {
        public int Count { get; set; }
    }
}
