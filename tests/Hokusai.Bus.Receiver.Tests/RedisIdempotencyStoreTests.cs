using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>
/// The Redis store on a real Redis (the private test one, scripts/services.sh): two receiver instances sharing it de-duplicate each other's
/// deliveries. Each test uses its own key prefix and deletes its keys afterwards.
/// </summary>
public sealed class RedisIdempotencyStoreTests : IAsyncLifetime
{
    private readonly string _prefix = $"{HokusaiReceiverRedisExtensions.DefaultRedisKeyPrefix}test-{Guid.NewGuid():N}:";
    private ConnectionMultiplexer? _redis;

    private IDatabase Db => _redis!.GetDatabase();

    public async Task InitializeAsync()
    {
        if (Services.RedisSkipReason is null)
        {
            _redis = await ConnectionMultiplexer.ConnectAsync(Services.RedisAddress);
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is null)
        {
            return;
        }

        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
        {
            await Db.KeyDeleteAsync(key);
        }

        await _redis.DisposeAsync();
    }

    private Task<ReceiverHost> StartInstance(Action<HokusaiReceiverOptions>? configure = null) =>
        ReceiverHost.StartAsync(configure, s => s.AddHokusaiRedisIdempotencyStore(Services.RedisAddress, _prefix));

    [RedisFact]
    public async Task Two_instances_sharing_redis_process_a_delivery_once()
    {
        await using var a = await StartInstance();
        await using var b = await StartInstance();
        var body = Deliveries.NewBody();

        using var first = await a.PostSignedAsync(body);
        using var onB = await b.PostSignedAsync(body);
        using var againOnA = await a.PostSignedAsync(body);

        Assert.Equal("success", await Deliveries.JsonValue(first, "status"));
        Assert.Equal(HttpStatusCode.OK, onB.StatusCode);
        Assert.Equal("already_processed", await Deliveries.JsonValue(onB, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(againOnA, "status"));
        Assert.Single(a.Handled);
        Assert.Empty(b.Handled);
    }

    [RedisFact]
    public async Task A_failure_on_one_instance_leaves_the_retry_to_another()
    {
        await using var a = await StartInstance();
        await using var b = await StartInstance();
        a.OnHandle = (_, _) => throw new InvalidOperationException("instance a is broken");
        var body = Deliveries.NewBody();

        using var failed = await a.PostSignedAsync(body);
        using var retried = await b.PostSignedAsync(body);
        using var duplicate = await a.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("success", await Deliveries.JsonValue(retried, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(duplicate, "status"));
        Assert.Single(b.Handled);
    }

    [RedisFact]
    public async Task While_one_instance_processes_the_other_answers_409()
    {
        await using var a = await StartInstance();
        await using var b = await StartInstance();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var proceed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.OnHandle = async (_, _) =>
        {
            entered.TrySetResult();
            await proceed.Task;
        };
        var body = Deliveries.NewBody();

        var onA = a.PostSignedAsync(body);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var during = await b.PostSignedAsync(body);
        proceed.SetResult();
        using var aResponse = await onA;
        using var after = await b.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.Conflict, during.StatusCode);
        Assert.Equal(HttpStatusCode.OK, aResponse.StatusCode);
        Assert.Equal("already_processed", await Deliveries.JsonValue(after, "status"));
        Assert.Empty(b.Handled);
    }

    [RedisFact]
    public async Task Keys_are_prefixed_claims_expire_with_the_lease_and_processed_keys_with_the_ttl()
    {
        await using var host = await StartInstance(o =>
        {
            o.ClaimLeaseTime = TimeSpan.FromMinutes(2);
            o.IdempotencyKeyTtl = TimeSpan.FromHours(6);
        });
        var key = Guid.NewGuid().ToString();
        var body = Deliveries.NewBody(key);
        (RedisValue Value, TimeSpan? Ttl) during = default;
        host.OnHandle = async (_, _) => during = (await Db.StringGetAsync(_prefix + key), await Db.KeyTimeToLiveAsync(_prefix + key));

        using var response = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(RedisIdempotencyStore.ClaimPrefix, during.Value.ToString(), StringComparison.Ordinal);
        Assert.InRange(during.Ttl!.Value, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        Assert.Equal(RedisIdempotencyStore.ProcessedValue, (string?)await Db.StringGetAsync(_prefix + key));
        Assert.InRange((await Db.KeyTimeToLiveAsync(_prefix + key))!.Value, TimeSpan.FromHours(5.9), TimeSpan.FromHours(6));
    }

    [RedisFact]
    public async Task Only_the_owner_releases_a_claim_and_a_release_never_undoes_processed()
    {
        await using var store = new RedisIdempotencyStore(RedisIdempotencyStore.Configure(Services.RedisAddress), _prefix);
        var lease = TimeSpan.FromMinutes(1);

        Assert.Equal(IdempotencyClaimResult.Claimed, await store.TryClaimAsync("k", "a", lease));
        Assert.Equal(IdempotencyClaimResult.InProgress, await store.TryClaimAsync("k", "b", lease));
        await store.ReleaseAsync("k", "b");
        Assert.Equal(IdempotencyClaimResult.InProgress, await store.TryClaimAsync("k", "b", lease));
        await store.ReleaseAsync("k", "a");
        Assert.Equal(IdempotencyClaimResult.Claimed, await store.TryClaimAsync("k", "b", lease));
        await store.MarkProcessedAsync("k", TimeSpan.FromMinutes(10));
        await store.ReleaseAsync("k", "b");
        Assert.Equal(IdempotencyClaimResult.AlreadyProcessed, await store.TryClaimAsync("k", "c", lease));
    }

    [RedisFact]
    public async Task Of_many_concurrent_claims_of_one_key_exactly_one_wins()
    {
        await using var store = new RedisIdempotencyStore(() => _redis!, _prefix);

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            store.TryClaimAsync("race", $"o{i}", TimeSpan.FromMinutes(1)).AsTask()));

        Assert.Single(results, r => r == IdempotencyClaimResult.Claimed);
    }

    [RedisFact]
    public async Task An_application_connection_can_be_used_and_is_not_disposed_by_the_store()
    {
        await using var host = await ReceiverHost.StartAsync(services: s =>
            s.AddHokusaiRedisIdempotencyStore(_ => _redis!, _prefix));

        using var response = await host.PostSignedAsync(Deliveries.NewBody());
        await host.DisposeAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_redis!.IsConnected);
    }
}

/// <summary>The Redis store without Redis: fails fast, so the sender gets 503 and retries. Needs no server.</summary>
public sealed class RedisUnavailableTests
{
    [Fact]
    public async Task When_redis_is_unreachable_deliveries_get_503_and_the_handler_is_not_called()
    {
        // A loopback port nobody listens on: connection refused at once, and the store fails fast.
        var port = LoopbackPort.Free();
        await using var host = await ReceiverHost.StartAsync(services: s =>
            s.AddHokusaiRedisIdempotencyStore($"127.0.0.1:{port},connectTimeout=1000", HokusaiReceiverRedisExtensions.DefaultRedisKeyPrefix));

        using var response = await host.PostSignedAsync(Deliveries.NewBody());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(host.Handled);
    }
}
