using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>
/// The log lines of one multiplexer's connection events. StackExchange.Redis also raises <c>ConnectionRestored</c>
/// (with <c>FailureType</c> None) when a connection comes up the first time, e.g. the subscription connection just
/// after a clean start: only a connection that was lost is logged as restored, naming what it was lost to.
/// </summary>
internal sealed class RedisConnectionEvents(ILogger logger)
{
    private readonly ConcurrentDictionary<(string?, ConnectionType), ConnectionFailureType> _lost = new();

    /// <summary>Handles the multiplexer's <c>ConnectionFailed</c> and <c>ConnectionRestored</c>.</summary>
    public void Watch(IConnectionMultiplexer multiplexer)
    {
        multiplexer.ConnectionFailed += (_, e) => Failed(e);
        multiplexer.ConnectionRestored += (_, e) => Restored(e);
    }

    public void Failed(ConnectionFailedEventArgs e)
    {
        _lost[(e.EndPoint?.ToString(), e.ConnectionType)] = e.FailureType;
        RedisLog.RedisConnectionLost(logger, e.ConnectionType.ToString(), e.FailureType.ToString());
    }

    public void Restored(ConnectionFailedEventArgs e)
    {
        if (_lost.TryRemove((e.EndPoint?.ToString(), e.ConnectionType), out var failure))
        {
            RedisLog.RedisConnectionRestored(logger, e.ConnectionType.ToString(), failure.ToString());
        }
    }
}
