using Hokusai.Bus.Contracts;
using MassTransit;
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
    RedisWriteRetry retry,
    RedisFallbackMetrics metrics,
    ILogger<RedisFallbackConsumer> logger) : IConsumer<ModelRegistered>, IConsumer<PipelineEvent>
{
    public Task Consume(ConsumeContext<ModelRegistered> context)
    {
        ModelRegisteredValidation.EnsureValid(context.Message);
        return WriteAsync(context, context.Message with { IdempotencyKey = IdempotencyKey.For(context.Message) });
    }

    /// <summary>A registration that came through the host's <c>/ingest</c>; DeltaOne events are not written (nothing in Redis reads them).</summary>
    public Task Consume(ConsumeContext<PipelineEvent> context) =>
        context.Message.Shape == PipelineEventShape.DeltaOne ? Task.CompletedTask : WriteAsync(context, context.Message.ToRegistration());

    private async Task WriteAsync<T>(ConsumeContext<T> context, ModelRegistered registration)
        where T : class
    {
        var settings = options.Value;
        var key = registration.IdempotencyKey;
        var tries = new RedisWriteRetry.Tries();
        try
        {
            var subscribers = await retry.ExecuteAsync(
                static (state, token) => state.Consumer.PublishAsync(state.Settings, state.Registration, token),
                (Consumer: this, Settings: settings, Registration: registration), tries, context.CancellationToken).ConfigureAwait(false);
            if (subscribers < 0)
            {
                RedisLog.RedisDuplicate(logger, key);
                return;
            }

            metrics.Published();
            RedisLog.RedisPublished(logger, key, settings.Channel, subscribers);
        }
        catch (Exception e) when (RedisFailure.IsTransient(e) && !context.CancellationToken.IsCancellationRequested)
        {
            // Redis is down longer than the in-host retries last: the message waits in RabbitMQ, however long the
            // outage, and never goes to _error for it.
            var delay = RedisFailure.WaitAfter(context.HokusaiRedeliveries(), settings.RetryDelay);
            var reason = SafeText.Of($"{e.GetType().Name}: {e.Message}", 200);
            RedisLog.RedisDeferred(logger, key, delay.TotalMilliseconds, reason);
            metrics.Deferred();
            await context.RedeliverLaterAsync(delay, reason).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // A reply Redis gives about the data itself (WRONGTYPE, a value over its size limit) is permanent.
            metrics.Failed();
            RedisLog.RedisFailed(logger, key, tries.Count, SafeText.Of(e.Message, 200));
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

    private static (byte[] List, byte[] Channel) Both(byte[] value) => (value, value);

    private async Task<long> PublishAsync(HokusaiRedisOptions settings, ModelRegistered registration, CancellationToken cancellationToken)
    {
        var key = registration.IdempotencyKey;
        var (listValue, channelValue) = settings.MessageFormat switch
        {
            RedisMessageFormat.Legacy => LegacyRedisMessage.Of(registration),
            RedisMessageFormat.TokenService => Both(TokenServiceMessage.Of(registration)),
            _ => Both(ModelRegisteredJson.Serialize(registration)),
        };

        try
        {
            var database = (await redis.GetAsync().ConfigureAwait(false)).GetDatabase();
            var result = await database.ScriptEvaluateAsync(
                PublishOnceScript,
                [$"{settings.ListKey}:sent:{key}", settings.ListKey],
                [listValue, channelValue, (long)settings.DedupTtl.TotalSeconds, settings.ListEnabled ? "1" : "0", settings.Channel])
                .ConfigureAwait(false);
            redis.Succeeded();
            return (long)result;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // A command cut off by a lost connection is cancelled: a Redis failure, to be retried (and, past the quick
            // retries, to wait in RabbitMQ), never a fault. The script is atomic, so a retry writes once or not at all.
            throw new RedisException("Redis connection lost during the write; the message will be retried.", e);
        }
        catch (Exception e) when (e is RedisConnectionException or ObjectDisposedException)
        {
            redis.Failed(e); // long enough, and the connection is replaced
            throw;
        }
    }
}
