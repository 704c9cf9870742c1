using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>One multiplexer for the process, created on first use; it reconnects by itself after a Redis restart.</summary>
internal sealed class RedisConnection(IOptions<HokusaiRedisOptions> options, ILogger<RedisConnection> logger)
    : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(async () =>
    {
        var configuration = RedisSettings.Parse(options.Value.Url);
        if (options.Value.Password is { Length: > 0 } password)
        {
            configuration.Password = password;
        }

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => RedisLog.RedisConnectionChanged(logger, "lost", e.FailureType.ToString());
        multiplexer.ConnectionRestored += (_, e) => RedisLog.RedisConnectionChanged(logger, "restored", e.FailureType.ToString());
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
