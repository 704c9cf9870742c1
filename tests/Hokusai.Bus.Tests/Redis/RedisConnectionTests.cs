using Hokusai.Bus.TestSupport;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Hokusai.Bus.Tests.Redis;

/// <summary>
/// The fallback's one multiplexer, and its replacement when connection failures outlast what StackExchange.Redis
/// should take to reconnect by itself (the "force reconnect" pattern), against a private redis-server.
/// </summary>
public sealed class RedisConnectionTests
{
    private static readonly RedisConnectionException Lost = new(ConnectionFailureType.SocketClosed, "test: connection lost");

    [Fact]
    public async Task Connection_failures_lasting_30_s_with_no_success_replace_the_multiplexer_at_most_once_a_minute()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var time = new FakeTimeProvider();
        var logger = new FakeLogger<RedisConnection>();
        await using var connection = new RedisConnection(
            Options.Create(new HokusaiRedisOptions { Url = redis.Address }), time, logger);
        var first = await connection.GetAsync();

        connection.Failed(Lost);
        time.Advance(TimeSpan.FromSeconds(29));
        connection.Failed(Lost);
        Assert.Same(first, await connection.GetAsync()); // 29 s: StackExchange.Redis may still reconnect by itself

        connection.Succeeded(); // a command got through: the failures so far do not count
        time.Advance(TimeSpan.FromSeconds(2));
        connection.Failed(Lost);
        Assert.Same(first, await connection.GetAsync());

        time.Advance(TimeSpan.FromSeconds(30));
        connection.Failed(Lost);
        var second = await connection.GetAsync();
        Assert.NotSame(first, second);
        Assert.True(await second.GetDatabase().PingAsync() >= TimeSpan.Zero); // the new one works
        Assert.Equal(1, connection.Replacements);
        var replaced = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "RedisConnectionReplaced");
        Assert.Contains("RedisConnectionException", replaced.Message, StringComparison.Ordinal);

        // Still failing: replaced again only a minute after the last replacement, not 30 s after.
        connection.Failed(Lost);
        time.Advance(TimeSpan.FromSeconds(30));
        connection.Failed(Lost);
        Assert.Same(second, await connection.GetAsync());
        time.Advance(TimeSpan.FromSeconds(30));
        connection.Failed(Lost);
        Assert.NotSame(second, await connection.GetAsync());
        Assert.Equal(2, connection.Replacements);
    }

    [Fact]
    public async Task Failures_about_the_data_never_replace_the_connection()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var time = new FakeTimeProvider();
        await using var connection = new RedisConnection(
            Options.Create(new HokusaiRedisOptions { Url = redis.Address }), time, new FakeLogger<RedisConnection>());
        var first = await connection.GetAsync();

        for (var i = 0; i < 5; i++)
        {
            connection.Failed(new RedisServerException("WRONGTYPE Operation against a key holding the wrong kind of value"));
            time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Same(first, await connection.GetAsync());
        Assert.Equal(0, connection.Replacements);
    }

    [Fact]
    public async Task A_clean_start_logs_no_restore_and_a_lost_connection_is_logged_lost_then_restored()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var logger = new FakeLogger<RedisConnection>();
        await using var connection = new RedisConnection(
            Options.Create(new HokusaiRedisOptions { Url = redis.Address }), TimeProvider.System, logger);
        var multiplexer = await connection.GetAsync();
        // Both of its connections in use, as the fallback's PUBLISH and a subscriber would: every first connect is over.
        await multiplexer.GetDatabase().PingAsync();
        await multiplexer.GetSubscriber().PingAsync();
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Name is "RedisConnectionRestored" or "RedisConnectionLost");

        // An outage: the handlers the connection added first have run when these run.
        multiplexer.ConnectionFailed += (_, _) => lost.TrySetResult();
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                restored.TrySetResult();
            }
        };
        await redis.StopAsync();
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await redis.StartAgainAsync();
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var records = logger.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Id.Name == "RedisConnectionLost" && r.Message.StartsWith("Redis connection lost (Interactive): ", StringComparison.Ordinal));
        var restore = Assert.Single(records, r => r.Id.Name == "RedisConnectionRestored" && r.Message.Contains("(Interactive)", StringComparison.Ordinal));
        Assert.DoesNotContain("None", restore.Message, StringComparison.Ordinal); // it names what was lost
    }

    [Fact]
    public void A_connection_that_comes_up_the_first_time_is_no_restore_and_a_lost_one_is_restored_once()
    {
        var logger = new FakeLogger<RedisConnection>();
        var events = new RedisConnectionEvents(logger);
        var endpoint = new System.Net.DnsEndPoint("127.0.0.1", 6379);
        ConnectionFailedEventArgs Args(ConnectionType type, ConnectionFailureType failure) => new(this, endpoint, type, failure, null!, "test");

        // What StackExchange.Redis raises at a clean start, when the subscription connection comes up: nothing was lost.
        events.Restored(Args(ConnectionType.Subscription, ConnectionFailureType.None));
        Assert.Empty(logger.Collector.GetSnapshot());

        events.Failed(Args(ConnectionType.Interactive, ConnectionFailureType.SocketClosed));
        events.Restored(Args(ConnectionType.Interactive, ConnectionFailureType.None));
        events.Restored(Args(ConnectionType.Interactive, ConnectionFailureType.None)); // restored already

        Assert.Equal(
            ["Redis connection lost (Interactive): SocketClosed", "Redis connection restored (Interactive) after SocketClosed"],
            logger.Collector.GetSnapshot().Select(r => r.Message));
    }
}
