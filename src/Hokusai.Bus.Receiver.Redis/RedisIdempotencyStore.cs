using StackExchange.Redis;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// Shares de-duplication between every instance that uses the same Redis and key prefix. A claim is
/// <c>SET {prefix}{key} processing:{owner} NX EX {lease}</c>; processed is <c>SET {prefix}{key} processed EX {ttl}</c>;
/// a release deletes the key only while it still holds the caller's claim (one Lua script, atomic).
/// </summary>
/// <remarks>
/// Connects on first use, without failing when Redis is down (<c>AbortOnConnectFail=false</c>) and failing each command
/// at once while it is disconnected (<c>BacklogPolicy.FailFast</c>): the endpoint then answers 503 and the sender
/// retries later, instead of a request hanging for the command timeout.
/// </remarks>
internal sealed class RedisIdempotencyStore : IIdempotencyStore, IAsyncDisposable
{
    internal const string ProcessedValue = "processed";
    internal const string ClaimPrefix = "processing:";

    private const string ReleaseScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly bool _ownsConnection;

    /// <summary>A store that connects with <paramref name="configuration"/> on first use and disposes the connection.</summary>
    public RedisIdempotencyStore(ConfigurationOptions configuration, string keyPrefix)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        KeyPrefix = keyPrefix;
        _ownsConnection = true;
        _connection = new(async () => await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false));
    }

    /// <summary>A store over a connection that someone else owns (and disposes).</summary>
    public RedisIdempotencyStore(Func<IConnectionMultiplexer> connection, string keyPrefix)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        KeyPrefix = keyPrefix;
        _connection = new(() => Task.FromResult(connection()));
    }

    /// <summary>Prepended to every idempotency key.</summary>
    public string KeyPrefix { get; }

    /// <summary>Options for a configuration string: no abort on a failed connect, fail fast while disconnected.</summary>
    internal static ConfigurationOptions Configure(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "Hokusai.Bus.Receiver";
        return options;
    }

    public async ValueTask<IdempotencyClaimResult> TryClaimAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var redisKey = KeyOf(key);
        // Twice at most: a claim or mark can lapse between our SET NX and GET.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (await db.StringSetAsync(redisKey, ClaimPrefix + owner, lease, When.NotExists)
                    .WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                return IdempotencyClaimResult.Claimed;
            }

            var current = await db.StringGetAsync(redisKey).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!current.IsNull)
            {
                return current == ProcessedValue ? IdempotencyClaimResult.AlreadyProcessed : IdempotencyClaimResult.InProgress;
            }
        }

        return IdempotencyClaimResult.InProgress;
    }

    public async ValueTask MarkProcessedAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.StringSetAsync(KeyOf(key), ProcessedValue, ttl).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.ScriptEvaluateAsync(ReleaseScript, [KeyOf(key)], [ClaimPrefix + owner])
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection && _connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            await (await _connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }

    internal RedisKey KeyOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return KeyPrefix + key;
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await _connection.Value.WaitAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
}
