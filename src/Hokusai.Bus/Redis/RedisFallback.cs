using System.Diagnostics.Metrics;
using Hokusai.Bus.Contracts;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>
/// Keeps the legacy Redis consumers fed during the migration: each registration LPUSHed to the old list and PUBLISHed to
/// the old channel, in the legacy wire format (<see cref="LegacyRedisMessage"/>) or as the webhook body, once per
/// idempotency key, in one atomic script so a retry never leaves one without the other.
/// </summary>
internal sealed class RedisFallbackConsumer(
    RedisConnection redis,
    IOptions<HokusaiRedisOptions> options,
    RedisFallbackMetrics metrics,
    ILogger<RedisFallbackConsumer> logger) : IConsumer<ModelRegistered>
{
    public async Task Consume(ConsumeContext<ModelRegistered> context)
    {
        var settings = options.Value;
        var (body, key) = WebhookBody.Of(context.Message);
        var retry = context.GetRetryAttempt();
        if (retry > 0)
        {
            metrics.Retried();
        }

        try
        {
            var subscribers = await PublishAsync(settings, context.Message, body, key).ConfigureAwait(false);
            if (subscribers < 0)
            {
                Log.RedisDuplicate(logger, key);
                return;
            }

            metrics.Published();
            Log.RedisPublished(logger, key, settings.Channel, subscribers);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e) && retry >= settings.MaxRetries
                                  && !context.CancellationToken.IsCancellationRequested)
        {
            // Redis is down longer than the in-host retries last: the message waits in RabbitMQ, however long the
            // outage, and never goes to _error for it.
            var history = DeliveryHistory.From(context.Headers);
            var delay = RedisFailure.WaitAfter(history.Redeliveries, settings.RetryDelay);
            var reason = SafeText.Of($"{e.GetType().Name}: {e.Message}", 200);
            Log.RedisDeferred(logger, key, delay.TotalMilliseconds, reason);
            metrics.Deferred();
            history = history with { Redeliveries = history.Redeliveries + 1, LastReason = reason };
            await Redelivery.LaterAsync(context, delay, history.ToHeaders()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // A reply Redis gives about the data itself (WRONGTYPE, a value over its size limit) is permanent.
            metrics.Failed();
            Log.RedisFailed(logger, key, retry + 1, SafeText.Of(e.Message, 200));
            throw;
        }
    }

    /// <summary>
    /// LPUSH and PUBLISH at most once per idempotency key, atomically: a script, so no other command runs between the
    /// check, the writes and the marker. A redelivery (a host killed after Redis wrote, before RabbitMQ heard the ack)
    /// finds the marker and writes nothing. The marker is set last, so a write Redis refuses leaves none behind.
    /// </summary>
    private const string PublishOnceScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
        if ARGV[4] == '1' then redis.call('LPUSH', KEYS[2], ARGV[1]) end
        local subscribers = redis.call('PUBLISH', ARGV[5], ARGV[2])
        redis.call('SET', KEYS[1], '1', 'EX', ARGV[3])
        return subscribers
        """;

    private async Task<long> PublishAsync(HokusaiRedisOptions settings, ModelRegistered message, byte[] body, string key)
    {
        var (listValue, channelValue) = settings.MessageFormat == RedisMessageFormat.Legacy
            ? LegacyRedisMessage.Of(message with { IdempotencyKey = key })
            : (body, body);
        var database = (await redis.GetAsync().ConfigureAwait(false)).GetDatabase();
        var result = await database.ScriptEvaluateAsync(
            PublishOnceScript,
            [$"{settings.ListKey}:sent:{key}", settings.ListKey],
            [listValue, channelValue, (long)settings.DedupTtl.TotalSeconds, settings.ListEnabled ? "1" : "0", settings.Channel])
            .ConfigureAwait(false);
        return (long)result;
    }
}

/// <summary>Which Redis failures are about Redis being unavailable (wait and retry) rather than about the data.</summary>
internal static class RedisFailure
{
    /// <summary>The longest wait in RabbitMQ between two tries while Redis is down.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    public static bool IsTransient(Exception e) => e switch
    {
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                                       || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
                                       || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
                                       || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
                                       || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        RedisException or TimeoutException => true,
        _ => false,
    };

    /// <summary><c>REDIS_RETRY_DELAY × 2^n</c> after the n-th wait in RabbitMQ, at most <see cref="MaxWait"/>.</summary>
    public static TimeSpan WaitAfter(int redeliveries, TimeSpan retryDelay)
    {
        var wait = retryDelay * Math.Pow(2, Math.Min(redeliveries, 16));
        return wait > MaxWait || wait <= TimeSpan.Zero ? MaxWait : wait;
    }
}

/// <summary>Redis endpoint policy: queue <c>hokusai-redis-fallback</c>, raw JSON, exponential retries, then <c>_error</c>.</summary>
internal sealed class RedisFallbackConsumerDefinition : ConsumerDefinition<RedisFallbackConsumer>
{
    private readonly HokusaiRedisOptions _options;

    public RedisFallbackConsumerDefinition(IOptions<HokusaiRedisOptions> options)
    {
        _options = options.Value;
        EndpointName = HokusaiQueues.RedisFallback;
        ConcurrentMessageLimit = _options.Concurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RedisFallbackConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConfigureRawJson();
        endpointConfigurator.PrefetchCount = _options.Concurrency;
        if (_options.MaxRetries > 0)
        {
            consumerConfigurator.UseMessageRetry(retry =>
            {
                retry.Exponential(_options.MaxRetries, _options.RetryDelay, TimeSpan.FromSeconds(30), _options.RetryDelay);
                retry.Handle<Exception>(RedisFailure.IsTransient);
            });
        }
    }
}

/// <summary>One multiplexer for the process, created on first use; it reconnects by itself after a Redis restart.</summary>
internal sealed class RedisConnection(IOptions<HokusaiRedisOptions> options, ILogger<RedisConnection> logger)
    : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(async () =>
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisSettings.Parse(options.Value.Url)).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => Log.RedisConnectionChanged(logger, "lost", e.FailureType.ToString());
        multiplexer.ConnectionRestored += (_, e) => Log.RedisConnectionChanged(logger, "restored", e.FailureType.ToString());
        return multiplexer;
    });

    public Task<ConnectionMultiplexer> GetAsync() => _connection.Value;

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await (await _connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Readiness: Redis trouble is reported as degraded, never as the host being down (webhooks still flow).</summary>
internal sealed class RedisFallbackHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var multiplexer = await redis.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.IsConnected
            ? HealthCheckResult.Healthy("Redis fallback connected.")
            : new HealthCheckResult(context.Registration.FailureStatus,
                "Redis is unreachable; fallback messages wait in hokusai-redis-fallback and are retried.");
    }
}

/// <summary>The Redis path's instruments, beside the webhook ones on meter <c>Hokusai.Bus</c>.</summary>
internal sealed class RedisFallbackMetrics
{
    private readonly Counter<long> _success;
    private readonly Counter<long> _failure;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _deferred;

    public RedisFallbackMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(HokusaiBusMetrics.MeterName);
        _success = meter.CreateCounter<long>("redis_publish_success", "{message}", "Registrations published to Redis.");
        _failure = meter.CreateCounter<long>("redis_publish_failure", "{message}",
            "Registrations Redis refused (a permanent error about the data); they are in hokusai-redis-fallback_error.");
        _retries = meter.CreateCounter<long>("redis_retry_count", "{retry}", "Retries after a Redis failure.");
        _deferred = meter.CreateCounter<long>("redis_deferred", "{message}",
            "Registrations handed to a RabbitMQ delay queue while Redis is unavailable.");
    }

    public void Published() => _success.Add(1);

    public void Failed() => _failure.Add(1);

    public void Retried() => _retries.Add(1);

    public void Deferred() => _deferred.Add(1);
}
