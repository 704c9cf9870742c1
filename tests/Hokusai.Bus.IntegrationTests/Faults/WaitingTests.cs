using System.Text;
using Hokusai.Bus.Operations.DeliveryLog;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>Tests that change the broker's global consumer_timeout run alone, so no other test sees it.</summary>
[CollectionDefinition(nameof(BrokerSettings), DisableParallelization = true)]
public sealed class BrokerSettings;

/// <summary>
/// Waiting lives in RabbitMQ, not in the host: no message is held unacknowledged past WEBHOOK_MAX_HOLD, whatever the
/// wait (an outage longer than the broker's ack timeout, a long Retry-After), and an outage never dead-letters.
/// Real RabbitMQ, a Kestrel receiver, fractional settings.
/// </summary>
[Collection(nameof(BrokerSettings))]
public sealed class WaitingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    private static readonly Dictionary<string, string> Fractional = new()
    {
        ["WEBHOOK_RETRY_DELAY"] = "0.2",
        ["WEBHOOK_TIMEOUT"] = "1",
        ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "2",
    };

    [RabbitFact]
    public async Task An_outage_longer_than_the_brokers_ack_timeout_delivers_everything_with_nothing_in_error_and_no_channel_closed()
    {
        // The broker's consumer_timeout at 20 s, checked each second (channel_tick_interval, one minute by default, would
        // let a hold overrun it unseen), standing in for the default 30 minutes.
        await using var broker = new RabbitMqBroker();
        await broker.SetConsumerTimeoutAsync(TimeSpan.FromSeconds(20));
        await broker.SetChannelTickIntervalAsync(TimeSpan.FromSeconds(1));
        var closuresBefore = RabbitMqBroker.AckTimeoutClosures();
        await using var scenario = await Scenario.StartAsync();
        var down = true;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(down ? WebhookReceiver.Response.Down : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(new Dictionary<string, string>(Fractional)
        {
            ["WEBHOOK_MAX_HOLD"] = "5", // well under the 20 s ack timeout
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        const int count = 100;
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            keys.Add(Guid.NewGuid().ToString());
            await scenario.PublishAsync(Payloads.Registration(keys[^1]));
        }

        // Down for 35 s: longer than the ack timeout, many breaker cycles (2 s each), many holds (5 s each).
        var outage = Task.Delay(TimeSpan.FromSeconds(35));
        var rssEarly = host.ResidentMegabytes;
        await RabbitMqManagement.Eventually(
            async () => (await http.GetStringAsync("health/ready")).StartsWith("Degraded", StringComparison.Ordinal),
            Wait, "readiness Degraded while the breaker is open");
        await RabbitMqManagement.Eventually(
            async () => (await scenario.Rabbit.QueuesAsync()).Any(q => q.Key.Contains("_delay_", StringComparison.Ordinal) && q.Value > 0),
            Wait, "messages waiting in a delay queue");
        await outage;
        Assert.Empty(await scenario.ErrorsAsync());
        var rssLate = host.ResidentMegabytes;
        Assert.True(rssLate < rssEarly + 40, $"host RSS grew during the outage: {rssEarly:0} MB -> {rssLate:0} MB");
        down = false;

        await scenario.Receiver.WaitForAcceptedAsync(count, Wait);
        Assert.Equal(keys.Order(), scenario.Receiver.AcceptedKeys.Order());
        Assert.Empty(await scenario.ErrorsAsync());
        Assert.Equal(closuresBefore, RabbitMqBroker.AckTimeoutClosures());
        Assert.DoesNotContain("faulted", host.Output, StringComparison.Ordinal);
        Assert.Contains("Waiting in RabbitMQ", host.Output, StringComparison.Ordinal);
        await RabbitMqManagement.Eventually(async () => await http.GetStringAsync("health/ready") == "Healthy", Wait, "Healthy again");
    }

    [RabbitFact]
    public async Task An_ack_timeout_shorter_than_the_hold_is_named_once_counted_and_the_hold_halved_so_the_broker_stops_closing_channels()
    {
        // The broker's consumer_timeout (6 s, checked each second) under the host's hold (60 s): as a 30-minute default
        // under a hold someone raised, only faster.
        await using var broker = new RabbitMqBroker();
        await broker.SetChannelTickIntervalAsync(TimeSpan.FromSeconds(1));
        await broker.SetConsumerTimeoutAsync(TimeSpan.FromSeconds(6));
        var closuresBefore = RabbitMqBroker.AckTimeoutClosures();
        await using var scenario = await Scenario.StartAsync();
        var down = true;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(Volatile.Read(ref down) ? WebhookReceiver.Response.Down : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(new Dictionary<string, string>(Fractional) { ["WEBHOOK_MAX_HOLD"] = "60" });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var keys = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            keys.Add(Guid.NewGuid().ToString());
            await scenario.PublishAsync(Payloads.Registration(keys[^1]));
        }

        await host.WaitForOutputAsync("RabbitMQ closed the channel", Wait, "the host to log the broker's acknowledgement timeout");
        await RabbitMqManagement.Eventually(() => Task.FromResult(RabbitMqBroker.AckTimeoutClosures() > closuresBefore),
            Wait, "the broker's log line about the timeout"); // its log is written a moment after the close
        var closures = RabbitMqBroker.AckTimeoutClosures() - closuresBefore;
        Assert.Equal(1, closures);
        var line = Assert.Single(host.Output.Split('\n'), l => l.Contains("RabbitMQ closed the channel", StringComparison.Ordinal));
        Assert.Contains("hokusai-webhook-delivery", line, StringComparison.Ordinal);
        Assert.Contains("set WEBHOOK_MAX_HOLD (now 60 s) to at most half of consumer_timeout", line, StringComparison.Ordinal);
        Assert.Matches(@"holds messages at most [1-5](\.\d)? s", line);
        Assert.Matches(@"hokusai_ack_timeouts_total\{[^}]*queue=""hokusai-webhook-delivery""[^}]*\} 1", await http.GetStringAsync("metrics"));

        // Three more broker timeouts' worth of outage: with the hold halved, no channel is closed again.
        await Task.Delay(TimeSpan.FromSeconds(20));
        Assert.Equal(closures, RabbitMqBroker.AckTimeoutClosures() - closuresBefore);
        Volatile.Write(ref down, false);
        await scenario.Receiver.WaitForAcceptedAsync(keys.Count, Wait);
        Assert.Equal(keys.Order(), scenario.Receiver.AcceptedKeys.Distinct().Order());
        Assert.Empty(await scenario.ErrorsAsync());
        Assert.Equal(closures, RabbitMqBroker.AckTimeoutClosures() - closuresBefore);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task A_Retry_After_longer_than_the_hold_is_honoured_in_a_delay_queue_then_the_refused_message_reaches_error()
    {
        await using var scenario = await Scenario.StartAsync();
        var refused = Guid.NewGuid().ToString();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.IdempotencyKey == refused
            ? new WebhookReceiver.Response(503, RetryAfterSeconds: 20)
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>(Fractional)
        {
            ["WEBHOOK_MAX_RETRIES"] = "1",
            ["WEBHOOK_MAX_HOLD"] = "5",
        });

        await scenario.PublishAsync(Payloads.Registration(refused));
        await scenario.Receiver.WaitForRequestsAsync(1, Wait);
        await scenario.PublishAsync(Payloads.Registration()); // accepted: the endpoint is up and refuses only one
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        // While it waits out Retry-After: 20, the host holds nothing; the copy is in the 20 s delay queue.
        await RabbitMqManagement.Eventually(
            async () => await scenario.Rabbit.DepthAsync("hokusai-webhook-delivery_delay_20000ms") == (1, 0), Wait,
            "the refused message in hokusai-webhook-delivery_delay_20000ms");
        Assert.Equal((0, 0), await scenario.Rabbit.DepthAsync(Scenario.Queue));

        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 1, Wait, "the refused message in _error");
        var attempts = scenario.Receiver.Requests.Where(r => r.IdempotencyKey == refused).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.InRange((attempts[1].ReceivedAt - attempts[0].ReceivedAt).TotalSeconds, 19.5, 60);
        var dead = Assert.Single(await scenario.ErrorsAsync());
        Assert.Contains("failed after 2 attempt(s)", dead.Header("MT-Fault-Message"));
        Assert.Equal("1", dead.Header("Hokusai-Redeliveries"));
    }

    [RabbitFact]
    public async Task A_host_stopped_mid_retry_writes_the_attempts_down_so_the_next_host_continues_the_schedule()
    {
        await using var scenario = await Scenario.StartAsync();
        var key = Guid.NewGuid().ToString();
        var refusing = true;
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.IdempotencyKey == key && Volatile.Read(ref refusing)
            ? new WebhookReceiver.Response(500)
            : WebhookReceiver.Response.Ok);
        var settings = new Dictionary<string, string>
        {
            ["WEBHOOK_RETRY_DELAY"] = "2",
            ["WEBHOOK_MAX_RETRIES"] = "5",
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "100",
        };
        var first = await scenario.StartHostAsync(settings);

        await scenario.PublishAsync(Payloads.Registration(key));
        await scenario.Receiver.WaitForRequestsAsync(3, Wait);
        Assert.Equal(0, await first.StopAsync()); // SIGTERM while it waits for its next retry in the host

        // The copy in RabbitMQ carries what happened: as many counted attempts as the receiver saw.
        var delayQueue = (await scenario.Rabbit.QueuesAsync()).Keys.Single(q => q.Contains("_delay_", StringComparison.Ordinal));
        var copy = Assert.Single(await scenario.Rabbit.PeekAsync(delayQueue));
        var attempts = scenario.Receiver.RequestCount;
        Assert.Equal(attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), copy.Header("Hokusai-Attempts"));
        Assert.Contains("HTTP 500", copy.Header("Hokusai-Last-Reason"));

        Volatile.Write(ref refusing, false);
        await scenario.StartHostAsync(settings);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        // Every queue a message can wait in (the delivery log's stream keeps its records).
        await RabbitMqManagement.Eventually(
            async () => (await scenario.Rabbit.QueuesAsync()).Where(q => q.Key != DeliveryLogStream.DefaultName).All(q => q.Value == 0),
            Wait, "every queue empty");
        // The original was acknowledged when its copy was confirmed: only the copy came back, once.
        Assert.Equal(1, scenario.Receiver.AcceptedCounts[key]);
        Assert.Equal(attempts + 1, scenario.Receiver.RequestCount);
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [RabbitFact]
    public async Task One_registration_the_endpoint_always_refuses_with_no_other_traffic_neither_blocks_the_queue_nor_is_dead_lettered_by_it()
    {
        await using var scenario = await Scenario.StartAsync();
        var refused = Guid.NewGuid().ToString();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.IdempotencyKey == refused
            ? new WebhookReceiver.Response(500)
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>(Fractional)
        {
            ["WEBHOOK_MAX_RETRIES"] = "1",
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "2",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "1",
        });

        // Alone, it cannot be told from an outage: it is tried again every recovery time and stays out of _error.
        await scenario.PublishAsync(Payloads.Registration(refused));
        await scenario.Receiver.WaitForRequestsAsync(5, Wait);
        Assert.Empty(await scenario.ErrorsAsync());

        // Others published meanwhile are not blocked behind it: each is delivered...
        for (var i = 0; i < 20; i++)
        {
            await scenario.PublishAsync(Payloads.Registration());
        }

        await scenario.Receiver.WaitForAcceptedAsync(20, Wait);
        // ...and now that the endpoint is shown to be up, its next refusal sends it to _error.
        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 1, Wait, "the refused one in _error");
        var dead = Assert.Single(await scenario.ErrorsAsync());
        Assert.Contains(refused, dead.Payload);
        Assert.Contains("HTTP 500", dead.Header("MT-Fault-Message"));
    }

    [RabbitFact]
    public async Task Poison_keys_and_bodies_among_300_good_registrations_never_open_the_breaker_and_each_names_its_field()
    {
        await using var scenario = await Scenario.StartAsync();
        var tooLargeForTheEndpoint = Guid.NewGuid().ToString();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.IdempotencyKey == tooLargeForTheEndpoint
            ? new WebhookReceiver.Response(413)
            : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(new Dictionary<string, string>(Fractional)
        {
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "3",
        });
        var good = Payloads.Registration();
        var poison = new (string Json, string Reason)[]
        {
            (Payloads.Registration("s10b-ключ"), "idempotency_key must be printable ASCII"),
            (Payloads.Registration("a\\r\\nX-Injected: yes"), "idempotency_key must be printable ASCII"),
            (Payloads.Registration(new string('k', 100_000)), "idempotency_key must be at most 200 characters"),
            (Payloads.Registration(tooLargeForTheEndpoint), "HTTP 413"),
            (good.Replace("0.85", "1e400", StringComparison.Ordinal), "baseline_metrics.accuracy must be a finite number"),
            (good.Replace("0.85", "\"0.85\"", StringComparison.Ordinal), "baseline_metrics.accuracy"),
            (good.Replace("2024-01-15T10:30:00Z", "01/02/2024 10:30", StringComparison.Ordinal), "timestamp must be ISO 8601"),
            ("null", "JSON null"),
            ("{\"model_id\": \"broken\", \"timestamp\": ", "not valid JSON"),
        };

        var keys = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            if (i % 30 == 0 && i / 30 < poison.Length)
            {
                await scenario.PublishAsync(poison[i / 30].Json);
            }

            keys.Add(Guid.NewGuid().ToString());
            await scenario.PublishAsync(Payloads.Registration(keys[^1]));
        }

        // A MassTransit envelope of another message type: no consumer here, so MassTransit keeps it in _skipped.
        await scenario.PublishAsync("""{"messageId":"6f1c0000-0000-0000-0000-000000000001","messageType":["urn:message:Shop:OrderPlaced"],"message":{"order_id":42}}""",
            contentType: "application/vnd.masstransit+json");

        await scenario.Receiver.WaitForAcceptedAsync(300, Wait);
        await RabbitMqManagement.Eventually(
            async () => (await scenario.ErrorsAsync()).Count == poison.Length, Wait, $"{poison.Length} poison messages in _error");
        await RabbitMqManagement.Eventually(
            async () => await scenario.Rabbit.DepthAsync(Scenario.Queue + "_skipped") == (1, 0), Wait, "the other type in _skipped");

        Assert.Equal(keys.Order(), scenario.Receiver.AcceptedKeys.Order());
        var reasons = (await scenario.ErrorsAsync()).Select(e => e.Header("MT-Fault-Message") ?? "(none)").ToList();
        foreach (var (_, reason) in poison)
        {
            Assert.True(reasons.Exists(r => r.Contains(reason, StringComparison.Ordinal)),
                $"no reason contains '{reason}': {string.Join(" | ", reasons)}");
        }

        Assert.DoesNotContain("-> Open", host.Output, StringComparison.Ordinal);
        Assert.All(scenario.Receiver.Requests, r => Assert.False(r.Headers.ContainsKey("x-injected")));
        Assert.DoesNotContain(host.Output.Split('\n'), line => line.StartsWith("X-Injected", StringComparison.Ordinal));
        Assert.Single(scenario.Receiver.Requests, r => r.IdempotencyKey == tooLargeForTheEndpoint); // never retried
    }

    [RabbitRedisFact]
    public async Task Redis_down_longer_than_the_fallbacks_whole_retry_budget_leaves_every_registration_waiting_then_delivered()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = $"redis://{redis.Address}/0",
            ["REDIS_MAX_RETRIES"] = "2",
            ["REDIS_RETRY_DELAY"] = "0.05", // a budget of 0.15 s; Redis stays down for 15 s
        });
        await redis.StopAsync();

        const int count = 40;
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            keys.Add(Guid.NewGuid().ToString());
            await scenario.PublishAsync(Payloads.Registration(keys[^1]));
        }

        await scenario.Receiver.WaitForAcceptedAsync(count, Wait); // webhooks are not held up by Redis
        await RabbitMqManagement.Eventually(
            async () => (await scenario.Rabbit.QueuesAsync()).Any(q => q.Key.StartsWith("hokusai-redis-fallback_delay_", StringComparison.Ordinal)),
            Wait, "fallback messages waiting in a delay queue");
        await Task.Delay(TimeSpan.FromSeconds(15)); // the outage itself: nothing to await
        Assert.Empty(await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error"));
        await redis.StartAgainAsync();

        await using var client = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Address);
        await RabbitMqManagement.Eventually(
            async () => await client.GetDatabase().ListLengthAsync("hokusai:model_ready_queue") >= count, Wait,
            $"{count} registrations in the Redis list");
        var listed = (await client.GetDatabase().ListRangeAsync("hokusai:model_ready_queue")).Select(v => (string)v!).ToList();
        Assert.All(keys, key => Assert.Contains(listed, entry => entry.Contains(key, StringComparison.Ordinal)));
        Assert.Empty(await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error"));
    }

    [RabbitRedisFact]
    public async Task A_registration_redis_refuses_goes_to_the_redis_error_queue_with_the_reason()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var client = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Address);
        await client.GetDatabase().StringSetAsync("hokusai:model_ready_queue", "not a list"); // LPUSH: WRONGTYPE
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = redis.Address,
        });
        var key = Guid.NewGuid().ToString();

        await scenario.PublishAsync(Payloads.Registration(key));

        await RabbitMqManagement.Eventually(
            async () => (await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error")).Count == 1, Wait, "one message in the Redis _error queue");
        var dead = Assert.Single(await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error"));
        Assert.Contains(key, dead.Payload);
        Assert.Contains("WRONGTYPE", dead.Header("MT-Fault-Message"));
    }
}
