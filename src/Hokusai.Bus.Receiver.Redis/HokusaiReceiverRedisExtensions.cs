using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Hokusai.Bus.Receiver;

/// <summary>De-duplication shared between receiver instances through Redis.</summary>
public static class HokusaiReceiverRedisExtensions
{
    /// <summary>The key prefix of the Redis idempotency store unless another is given.</summary>
    public const string DefaultRedisKeyPrefix = "hokusai:webhook:processed:";

    /// <summary>
    /// De-duplicates through Redis instead of memory, so every instance that uses the same Redis and
    /// <paramref name="keyPrefix"/> recognises a key any of them processed. Connects on first use; while Redis is
    /// unreachable, deliveries are answered 503 (the sender retries) and the handler is not called.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379,password=...</c>.</param>
    /// <param name="keyPrefix">Prepended to each idempotency key.</param>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> cannot be parsed.</exception>
    public static IServiceCollection AddHokusaiRedisIdempotencyStore(
        this IServiceCollection services,
        string configuration,
        string keyPrefix = DefaultRedisKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        var options = RedisIdempotencyStore.Configure(configuration);
        services.Replace(ServiceDescriptor.Singleton<IIdempotencyStore>(_ => new RedisIdempotencyStore(options, keyPrefix)));
        return services;
    }

    /// <summary>
    /// De-duplicates through Redis over a connection the application already has (and disposes itself).
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="connection">Returns the application's connection; called once, on first use.</param>
    /// <param name="keyPrefix">Prepended to each idempotency key.</param>
    public static IServiceCollection AddHokusaiRedisIdempotencyStore(
        this IServiceCollection services,
        Func<IServiceProvider, IConnectionMultiplexer> connection,
        string keyPrefix = DefaultRedisKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        services.Replace(ServiceDescriptor.Singleton<IIdempotencyStore>(
            sp => new RedisIdempotencyStore(() => connection(sp), keyPrefix)));
        return services;
    }
}
