using System.Diagnostics;
using System.Net;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// Each scenario publishes a known set of registrations through a confirming producer, injects a fault, and ends by
/// checking that every key reached the receiver or (only where the scenario says so) the error queue: none lost.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultSuiteTests(FaultReport report)
{
    private const int Count = 30;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string> FastBreaker = new()
    {
        ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "3",
        ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "0.5",
        ["WEBHOOK_RETRY_DELAY"] = "0.05",
        ["WEBHOOK_MAX_RETRIES"] = "5",
    };

    [RabbitFact]
    public async Task Receiver_returns_500_for_a_while_then_recovers()
    {
        await using var scenario = await Scenario.StartAsync();
        var failing = true;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(
            Volatile.Read(ref failing) ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(FastBreaker);

        var keys = await PublishAsync(scenario, Count);
        await scenario.Receiver.WaitForRequestsAsync(10, Wait);
        Volatile.Write(ref failing, false);
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);

        await report.RecordAsync("receiver 500s, then recovers", scenario, keys);
    }

    [RabbitFact]
    public async Task Receiver_down_longer_than_several_breaker_cycles()
    {
        await using var scenario = await Scenario.StartAsync();
        var down = true;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(
            Volatile.Read(ref down) ? WebhookReceiver.Response.Down : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(FastBreaker);

        var keys = await PublishAsync(scenario, Count);
        // Three opens and failed trials at least: 3 to open, then one trial per 0.5 s cycle.
        await scenario.Receiver.WaitForRequestsAsync(6, Wait);
        Volatile.Write(ref down, false);
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);

        Assert.Contains("Open", host.Output);
        await report.RecordAsync("receiver down for several breaker cycles", scenario, keys);
    }

    [RabbitFact]
    public async Task Receiver_slower_than_the_timeout()
    {
        await using var scenario = await Scenario.StartAsync();
        // Slow for its first 8 requests (each times out at 0.3 s and opens the breaker), then fast again.
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number <= 8
            ? new WebhookReceiver.Response(200, TimeSpan.FromSeconds(3))
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>(FastBreaker) { ["WEBHOOK_TIMEOUT"] = "0.3" });

        var keys = await PublishAsync(scenario, Count);
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);

        // The slow requests were cut off by the host's timeout (the receiver saw them aborted: 499), not answered after
        // 3 s: without WEBHOOK_TIMEOUT they would all have been 200s.
        await scenario.Receiver.WaitUntilAsync(r => r.Requests.Count(q => q.StatusReturned == 499) == 8, Wait, "8 attempts timed out");
        await report.RecordAsync("receiver slower than WEBHOOK_TIMEOUT", scenario, keys);
    }

    [RabbitFact]
    public async Task Host_killed_with_SIGKILL_mid_stream_then_restarted()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(50)));
        var first = await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "4" });

        var keys = await PublishAsync(scenario, Count);
        await scenario.Receiver.WaitForAcceptedAsync(5, Wait);
        await first.KillAsync();
        Assert.True(scenario.Receiver.AcceptedKeys.Count < Count, "killed too late to prove anything");
        await scenario.StartHostAsync();
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);

        await report.RecordAsync("host SIGKILL mid-stream, restarted", scenario, keys);
    }

    [RabbitFact]
    public async Task Host_stopped_with_SIGTERM_mid_stream_then_restarted()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(50)));
        var first = await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "4" });

        var keys = await PublishAsync(scenario, Count);
        await scenario.Receiver.WaitForAcceptedAsync(5, Wait);
        Assert.Equal(0, await first.StopAsync());
        Assert.True(scenario.Receiver.AcceptedKeys.Count < Count, "stopped too late to prove anything");
        await scenario.StartHostAsync();
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);

        await report.RecordAsync("host SIGTERM mid-stream, restarted", scenario, keys);
    }

    [RabbitFact]
    public async Task RabbitMQ_restarted_mid_stream_host_reconnects_and_producer_confirms()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(20)));
        await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "2" });
        await using var publisher = new ConfirmingPublisher(scenario.Rabbit.AmqpUrl);

        var keys = new List<string>();
        for (var i = 0; i < Count; i++)
        {
            if (i == Count / 2)
            {
                await RabbitMqBroker.RabbitMqCtlAsync("stop_app");
                await RabbitMqBroker.RabbitMqCtlAsync("start_app");
            }

            var key = Guid.NewGuid().ToString();
            await publisher.PublishAsync(Payloads.Registration(key), Wait);
            keys.Add(key);
        }

        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);
        await report.RecordAsync("RabbitMQ restarted mid-stream", scenario, keys);
    }

    [RabbitFact]
    public async Task Bad_inputs_go_to_the_error_queue_with_a_reason_and_lose_nothing_else()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();

        var good = await PublishAsync(scenario, 10);
        var huge = Guid.NewGuid().ToString();
        await scenario.PublishAsync(Payloads.Registration(huge).Replace(
            "\"model_name\": \"sentiment-analyzer\"", $"\"model_name\": \"{new string('x', 2 * 1024 * 1024)}\"", StringComparison.Ordinal));
        var malformed = Guid.NewGuid().ToString();
        await scenario.PublishAsync($"{{\"idempotency_key\": \"{malformed}\", \"model_id\": ");
        var wrongType = Guid.NewGuid().ToString();
        await scenario.PublishAsync($"{{\"idempotency_key\": \"{wrongType}\", \"order_id\": 42, \"total\": 9.5}}");
        good.AddRange(await PublishAsync(scenario, 10));

        var expectedDelivered = good.Append(huge).ToList();
        await scenario.Receiver.WaitForAcceptedAsync(expectedDelivered.Count, Wait);
        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 2, Wait, "two bad messages in _error");

        var errors = await scenario.ErrorsAsync();
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.Header("MT-Reason"))));
        Assert.Contains(errors, e => e.Header("MT-Fault-Message")?.Contains("model_id is required", StringComparison.Ordinal) == true);
        Assert.False(host.HasExited);
        await report.RecordAsync("bad inputs (malformed, wrong type, 2 MB)", scenario,
            [.. expectedDelivered, malformed, wrongType], expectedInError: [malformed, wrongType]);
    }

    [RabbitRedisFact]
    public async Task Redis_stopped_and_restarted_with_the_fallback_on()
    {
        const string list = "hokusai:model_ready_queue";
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = redis.Address,
            ["REDIS_RETRY_DELAY"] = "0.2",
            ["REDIS_MAX_RETRIES"] = "10",
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var keys = await PublishAsync(scenario, Count / 2);
        await scenario.Receiver.WaitForAcceptedAsync(Count / 2, Wait);
        await using (var before = await ConnectionMultiplexer.ConnectAsync(redis.Address))
        {
            await RabbitMqManagement.Eventually(async () => await before.GetDatabase().ListLengthAsync(list) == Count / 2,
                Wait, "the first half in the Redis list");
        }

        await redis.StopAsync();
        var duringOutage = await PublishAsync(scenario, Count / 2);
        keys.AddRange(duringOutage);

        // Webhooks are not held up by the Redis outage, and readiness says degraded, not down.
        await scenario.Receiver.WaitForAcceptedAsync(Count, Wait);
        await RabbitMqManagement.Eventually(async () =>
        {
            using var response = await http.GetAsync("health/ready");
            return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync() == "Degraded";
        }, Wait, "readiness Degraded while Redis is down");

        await redis.StartAgainAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        // The restarted server has no data: everything published during the outage must arrive now.
        await RabbitMqManagement.Eventually(
            async () => await client.GetDatabase().ListLengthAsync(list) == duringOutage.Count, Wait, "the outage's messages in Redis");
        var listed = (await client.GetDatabase().ListRangeAsync(list)).Select(v => (string)v!).ToList();
        Assert.All(duringOutage, key => Assert.Contains(listed, body => body.Contains(key, StringComparison.Ordinal)));
        var redisErrors = await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error");
        Assert.Empty(redisErrors);

        await report.RecordAsync("Redis stopped and restarted, fallback on (webhooks)", scenario, keys);
        report.Add(new FaultRow("Redis stopped and restarted, fallback on (Redis list)", duringOutage.Count,
            duringOutage.Count(k => listed.Any(b => b.Contains(k, StringComparison.Ordinal))), 0, redisErrors.Count,
            duringOutage.Count(k => !listed.Any(b => b.Contains(k, StringComparison.Ordinal)))));
    }

    private static async Task<List<string>> PublishAsync(Scenario scenario, int count)
    {
        var keys = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var key = Guid.NewGuid().ToString();
            await scenario.PublishAsync(Payloads.Registration(key));
            keys.Add(key);
        }

        return keys;
    }
}
