using StackExchange.Redis;

namespace Hokusai.Bus;

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
        // A multiplexer replaced by RedisConnection while this command was on it.
        RedisException or TimeoutException or ObjectDisposedException => true,
        // The connection's pipe closed under a command being written (Redis went away mid-write): StackExchange.Redis
        // lets the pipe's "Writing is not allowed after writer was completed" through. A soak run with Redis stopped
        // dead-lettered 2 registrations on it before this.
        InvalidOperationException { Source: "System.IO.Pipelines" } => true,
        _ => false,
    };

    /// <summary><c>REDIS_RETRY_DELAY × 2^n</c> after the n-th wait in RabbitMQ, at most <see cref="MaxWait"/>.</summary>
    public static TimeSpan WaitAfter(int redeliveries, TimeSpan retryDelay)
    {
        var wait = retryDelay * Math.Pow(2, Math.Min(redeliveries, 16));
        return wait > MaxWait || wait <= TimeSpan.Zero ? MaxWait : wait;
    }
}
