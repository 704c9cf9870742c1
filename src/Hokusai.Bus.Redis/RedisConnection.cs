using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>
/// One multiplexer for the process, created on first use; it reconnects by itself after a Redis restart. In the rare
/// case it does not (a known StackExchange.Redis failure; Microsoft's guidance for it is the "force reconnect"
/// pattern), the multiplexer is replaced: after <see cref="ReplaceAfter"/> of connection failures with no success in
/// between, at most once per <see cref="MinReplaceInterval"/>. A connect that failed outright is retried on next use,
/// never kept.
/// </summary>
internal sealed class RedisConnection(IOptions<HokusaiRedisOptions> options, TimeProvider time, ILogger<RedisConnection> logger)
    : IAsyncDisposable
{
    /// <summary>How long connection failures must last, with no success in between, before the multiplexer is replaced.</summary>
    public static readonly TimeSpan ReplaceAfter = TimeSpan.FromSeconds(30);

    /// <summary>The least time between two replacements, so an outage replaces it once a minute, not per message.</summary>
    public static readonly TimeSpan MinReplaceInterval = TimeSpan.FromSeconds(60);

    private readonly object _gate = new();
    private Task<ConnectionMultiplexer>? _current;
    private DateTimeOffset? _failingSince;
    private DateTimeOffset _replacedAt = DateTimeOffset.MinValue;
    private bool _disposed;

    /// <summary>How many times the multiplexer has been replaced (for tests and diagnostics).</summary>
    public int Replacements { get; private set; }

    public Task<ConnectionMultiplexer> GetAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is null || _current.IsFaulted || _current.IsCanceled)
            {
                _current = ConnectAsync();
            }

            return _current;
        }
    }

    /// <summary>A command succeeded: whatever failed before is over.</summary>
    public void Succeeded()
    {
        lock (_gate)
        {
            _failingSince = null;
        }
    }

    /// <summary>
    /// A command failed. A connection failure that has lasted <see cref="ReplaceAfter"/> replaces the multiplexer (the
    /// old one is closed; commands still on it fail and are retried like any other Redis outage).
    /// </summary>
    public void Failed(Exception failure)
    {
        if (failure is not (RedisConnectionException or ObjectDisposedException))
        {
            return;
        }

        Task<ConnectionMultiplexer>? old;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            _failingSince ??= now;
            if (_disposed || now - _failingSince < ReplaceAfter || now - _replacedAt < MinReplaceInterval)
            {
                return;
            }

            old = _current;
            _current = null; // the next GetAsync connects afresh
            _failingSince = null;
            _replacedAt = now;
            Replacements++;
        }

        RedisLog.RedisConnectionReplaced(logger, ReplaceAfter.TotalSeconds, failure.GetType().Name);
        _ = CloseAsync(old);
    }

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? current;
        lock (_gate)
        {
            _disposed = true;
            current = _current;
            _current = null;
        }

        await CloseAsync(current).ConfigureAwait(false);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var configuration = RedisUrl.Parse(options.Value.Url);
        if (options.Value.Password is { Length: > 0 } password)
        {
            configuration.Password = password;
        }

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        new RedisConnectionEvents(logger).Watch(multiplexer);
        return multiplexer;
    }

    private static async Task CloseAsync(Task<ConnectionMultiplexer>? connecting)
    {
        if (connecting is null)
        {
            return;
        }

        try
        {
            await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or TimeoutException)
        {
            // A connect that never succeeded has nothing to close.
        }
    }
}
