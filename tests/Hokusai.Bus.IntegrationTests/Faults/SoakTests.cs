using System.Diagnostics;
using System.Globalization;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// Everything at once, with the Redis fallback on: the receiver down, the host SIGKILLed twice, RabbitMQ restarted
/// once and Redis down, while registrations keep arriving through a confirming producer. At the end every key has
/// reached the webhook and the Redis list, nothing is in any <c>_error</c> queue, and duplicates are counted.
/// CI runs 2,000 registrations with 20 s outages; <c>scripts/soak.sh</c> runs 10,000 with 3-minute outages
/// (<c>SOAK_COUNT</c>, <c>SOAK_OUTAGE_SECONDS</c>). The result is written to <c>artifacts/soak.md</c>.
/// </summary>
[Collection(nameof(BrokerSettings))]
public sealed class SoakTests
{
    private const string List = "hokusai:model_ready_queue";

    private static int Count => Setting("SOAK_COUNT", 2_000);

    private static TimeSpan Outage => TimeSpan.FromSeconds(Setting("SOAK_OUTAGE_SECONDS", 20));

    [RabbitRedisFact]
    public async Task Receiver_down_host_killed_twice_RabbitMQ_restarted_and_Redis_down_lose_nothing_and_dead_letter_nothing()
    {
        var started = Stopwatch.StartNew();
        var wait = Outage * 3 + TimeSpan.FromMinutes(3);
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        var receiverDown = false;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(
            Volatile.Read(ref receiverDown) ? WebhookReceiver.Response.Down : WebhookReceiver.Response.Ok);
        var settings = new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = redis.Address,
            ["REDIS_RETRY_DELAY"] = "0.2",
            ["REDIS_MAX_RETRIES"] = "3",
            ["WEBHOOK_RETRY_DELAY"] = "0.2",
            ["WEBHOOK_TIMEOUT"] = "1",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "2",
            ["WEBHOOK_MAX_HOLD"] = "15",
        };
        var hosts = new List<HostProcess>();
        var host = await scenario.StartHostAsync(settings);
        hosts.Add(host);
        await using var publisher = new ConfirmingPublisher(scenario.Rabbit.AmqpUrl);
        var keys = new List<string>(Count);
        var fifth = Count / 5;

        // 1. A fifth published and delivered normally; then the receiver goes down.
        await PublishAsync(publisher, keys, fifth, wait);
        Volatile.Write(ref receiverDown, true);
        var receiverDownAt = started.Elapsed;

        // 2. A fifth while the receiver is down; the host is killed and replaced.
        await PublishAsync(publisher, keys, fifth, wait);
        await host.KillAsync();
        host = await scenario.StartHostAsync(settings);
        hosts.Add(host);

        // 3. Redis goes down too, half-way through the receiver's outage.
        await Task.Delay(Outage / 2);
        // The test's redis-server keeps no data across a restart: keep what it holds before it goes down.
        var beforeOutage = new List<string>();
        await using (var before = await ConnectionMultiplexer.ConnectAsync(redis.Address))
        {
            await RabbitMqManagement.Eventually(async () =>
            {
                beforeOutage = (await before.GetDatabase().ListRangeAsync(List)).Select(v => (string)v!).ToList();
                return keys.All(k => beforeOutage.Exists(entry => entry.Contains(k, StringComparison.Ordinal)));
            }, wait, "the registrations so far in the Redis list");
        }

        await redis.StopAsync();
        var redisDownAt = started.Elapsed;
        await PublishAsync(publisher, keys, fifth, wait);
        await Task.Delay(Outage / 2);

        // 4. The receiver is back; RabbitMQ restarts while a fifth is being published (the producer retries until confirmed).
        Volatile.Write(ref receiverDown, false);
        var receiverOutage = started.Elapsed - receiverDownAt;
        var publishing = PublishAsync(publisher, keys, fifth, wait);
        await RabbitMqBroker.RabbitMqCtlAsync("stop_app");
        await RabbitMqBroker.RabbitMqCtlAsync("start_app");
        await publishing;

        // 5. The host is killed again mid-stream, the last fifth arrives, then Redis comes back.
        await host.KillAsync();
        host = await scenario.StartHostAsync(settings);
        hosts.Add(host);
        await PublishAsync(publisher, keys, Count - keys.Count, wait);
        await Task.Delay(Outage);
        await redis.StartAgainAsync();
        var redisOutage = started.Elapsed - redisDownAt;

        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var listed = new List<string>();
        try
        {
            await scenario.Receiver.WaitForAcceptedAsync(Count, wait);
            await RabbitMqManagement.Eventually(async () =>
            {
                listed = [.. beforeOutage, .. (await client.GetDatabase().ListRangeAsync(List)).Select(v => (string)v!)];
                return keys.All(k => listed.Exists(entry => entry.Contains(k, StringComparison.Ordinal)));
            }, wait, $"all {Count} registrations in the Redis list");
        }
        catch (TimeoutException timeout)
        {
            // What a failure needs to be understood after the fact: where the missing registrations are, and what
            // every host (the killed ones too) logged.
            var missing = keys.Where(k => !listed.Exists(e => e.Contains(k, StringComparison.Ordinal))).ToList();
            var depths = string.Join(", ", (await scenario.Rabbit.QueuesAsync()).Where(q => q.Value > 0).Select(q => $"{q.Key}={q.Value}"));
            var log = await WriteHostLogsAsync(hosts);
            throw new TimeoutException($"{timeout.Message}. Webhook accepted {scenario.Receiver.AcceptedKeys.Count} of {Count}; "
                + $"missing from the Redis list: {missing.Count} (first: {missing.FirstOrDefault()}); queues holding messages: "
                + $"[{depths}]; host logs in {log}.", timeout);
        }

        await WriteHostLogsAsync(hosts);
        var counts = scenario.Receiver.AcceptedCounts;
        var webhookDuplicates = keys.Sum(k => counts.TryGetValue(k, out var n) ? n - 1 : 0);
        var redisDuplicates = listed.Count - keys.Count;
        var queues = await scenario.Rabbit.QueuesAsync();
        var inError = queues.Where(q => q.Key.EndsWith("_error", StringComparison.Ordinal)).Sum(q => q.Value);
        var report = $"""
            | registrations | delivered unique (webhook) | webhook duplicates | in Redis list (unique) | Redis duplicates | in any _error | lost | outages | took |
            |---:|---:|---:|---:|---:|---:|---:|---|---:|
            | {Count:N0} | {keys.Count(counts.ContainsKey):N0} | {webhookDuplicates} | {keys.Count(k => listed.Exists(e => e.Contains(k, StringComparison.Ordinal))):N0} | {redisDuplicates} | {inError} | {keys.Count(k => !counts.ContainsKey(k))} | receiver down {receiverOutage.TotalSeconds:0} s, Redis down {redisOutage.TotalSeconds:0} s, 2 host SIGKILLs, 1 RabbitMQ restart | {started.Elapsed.TotalSeconds:0} s |
            """;
        var artifacts = Path.Combine(BuildOutput.RepositoryRoot, "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "soak.md"), report + "\n");

        Assert.Equal(Count, keys.Distinct().Count());
        Assert.All(keys, k => Assert.True(counts.ContainsKey(k), $"{k} never reached the webhook"));
        Assert.Equal(0, inError);
    }

    /// <summary>Every host's output (the killed ones too), in start order, to <c>artifacts/soak-hosts.log</c>.</summary>
    private static async Task<string> WriteHostLogsAsync(IEnumerable<HostProcess> hosts)
    {
        var log = Path.Combine(BuildOutput.RepositoryRoot, "artifacts", "soak-hosts.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        await File.WriteAllTextAsync(log, string.Join("\n==== next host ====\n", hosts.Select(h => h.Output)));
        return log;
    }

    private static async Task PublishAsync(ConfirmingPublisher publisher, List<string> keys, int count, TimeSpan timeout)
    {
        for (var i = 0; i < count; i++)
        {
            var key = Guid.NewGuid().ToString();
            await publisher.PublishAsync(Payloads.Registration(key), timeout);
            keys.Add(key);
        }
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;
}
