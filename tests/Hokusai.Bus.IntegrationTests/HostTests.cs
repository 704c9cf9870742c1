using System.Diagnostics;
using System.Net.Http.Json;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>What ops and receivers see of the running host.</summary>
public sealed class HostTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [RabbitFact]
    public async Task The_guides_own_python_verification_accepts_every_delivery()
    {
        await using var scenario = await Scenario.StartAsync();
        using var python = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(AppContext.BaseDirectory, "TestData", "guide_receiver.py"), Scenario.Secret])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var port = (await python.StandardOutput.ReadLineAsync())!.Split(' ')[1];
            await scenario.StartHostAsync(new Dictionary<string, string>
            {
                ["WEBHOOK_URL"] = $"http://127.0.0.1:{port}/api/models/ready",
            });
            var seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json"));

            await scenario.PublishAsync(seed);
            await scenario.PublishAsync(Payloads.Registration(key: "second-key"));

            var lines = new[]
            {
                await python.StandardOutput.ReadLineAsync().WaitAsync(Wait),
                await python.StandardOutput.ReadLineAsync().WaitAsync(Wait),
            };
            Assert.Equal(["verified 550e8400-e29b-41d4-a716-446655440000", "verified second-key"], lines.Order());
        }
        finally
        {
            python.Kill();
        }
    }

    [RabbitFact]
    public async Task Health_and_metrics_endpoints_report_the_bus_and_the_guides_counters()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        Assert.Equal("Healthy", await http.GetStringAsync("health/live"));
        await RabbitMqManagement.Eventually(
            async () => await http.GetStringAsync("health/ready") == "Healthy", Wait, "ready");
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains("webhook_publish_success_total", metrics);
        Assert.Contains("webhook_circuit_breaker_state", metrics);
        Assert.Contains("webhook_delivery_duration_seconds_bucket", metrics);
        Assert.DoesNotContain(Scenario.Secret, metrics);
        Assert.DoesNotContain(Scenario.Secret, host.Output);
        // ASP.NET Core's four lines per request are Warning by default: no console line per probe or POST.
        Assert.DoesNotContain("Request starting", host.Output);
        Assert.DoesNotContain("Executing endpoint", host.Output);
    }

    [RabbitFact]
    public async Task Logging__LogLevel__Microsoft_AspNetCore_set_to_Information_brings_back_the_per_request_lines()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(new Dictionary<string, string> { ["Logging__LogLevel__Microsoft.AspNetCore"] = "Information" });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        Assert.Equal("Healthy", await http.GetStringAsync("health/live"));
        await host.WaitForOutputAsync("Request finished HTTP/1.1 GET", Wait, "ASP.NET Core's request line");
    }
}

/// <summary>Scaling out: several hosts on one queue are competing consumers.</summary>
public sealed class ScaleOutTests
{
    [RabbitFact]
    public async Task Two_hosts_share_the_queue_and_each_registration_is_delivered_by_one_of_them()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(20)));
        var settings = new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "2" };
        var first = await scenario.StartHostAsync(settings);
        var second = await scenario.StartHostAsync(settings);
        var keys = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid().ToString()).ToList();

        foreach (var key in keys)
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        await scenario.Receiver.WaitForAcceptedAsync(keys.Count, TimeSpan.FromSeconds(60));
        Assert.All(scenario.Receiver.AcceptedCounts.Values, count => Assert.Equal(1, count));
        int DeliveredBy(HostProcess host) => keys.Count(k => host.Output.Contains("Delivered " + k, StringComparison.Ordinal));
        // The receiver answers before a host logs its delivery: wait for the logs to catch up.
        await RabbitMqManagement.Eventually(
            () => Task.FromResult(DeliveredBy(first) + DeliveredBy(second) == keys.Count), TimeSpan.FromSeconds(10), "both hosts' logs");
        var (byFirst, bySecond) = (DeliveredBy(first), DeliveredBy(second));
        Assert.True(byFirst > 0 && bySecond > 0, $"first delivered {byFirst}, second {bySecond}");
    }

    [RabbitRedisFact]
    public async Task RABBITMQ_QUORUM_QUEUES_declares_replicated_quorum_queues_that_deliver()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var token = await WebhookReceiver.StartAsync("token-secret-quorum");
        // The first answer asks for 2 s, longer than the 1 s hold: that wait is in a delay queue.
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number == 1
            ? new WebhookReceiver.Response(503, RetryAfterSeconds: 2)
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["RABBITMQ_QUORUM_QUEUES"] = "true",
            ["WEBHOOK_MAX_HOLD"] = "1",
            ["WEBHOOK_TIMEOUT"] = "0.5",
            ["Hokusai__Webhook__Endpoints__token__Url"] = token.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__token__Secret"] = "token-secret-quorum",
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = Services.RedisAddress,
            ["REDIS_LIST_KEY"] = $"hokusai-quorum-test:{Guid.NewGuid():N}",
            ["REDIS_CHANNEL"] = $"hokusai-quorum-test:{Guid.NewGuid():N}",
        });
        await RabbitMqManagement.Eventually(async () => (await scenario.Rabbit.QueuesAsync()).ContainsKey("hokusai-webhook-delivery-token"),
            TimeSpan.FromSeconds(30), "the named endpoint's queue");

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.PublishAsync("{\"model_id\": 42}"); // malformed: to _error
        // A MassTransit envelope of another message type: kept in _skipped.
        await scenario.PublishAsync("""{"messageId":"6f1c0000-0000-0000-0000-000000000002","messageType":["urn:message:Shop:OrderPlaced"],"message":{"order_id":42}}""",
            contentType: "application/vnd.masstransit+json");
        await scenario.Receiver.WaitForAcceptedAsync(1, TimeSpan.FromSeconds(30));
        await token.WaitForAcceptedAsync(1, TimeSpan.FromSeconds(30));
        await RabbitMqManagement.Eventually(async () => (await scenario.Rabbit.QueuesAsync()) is var queues
            && queues.ContainsKey(Scenario.ErrorQueue) && queues.ContainsKey(Scenario.Queue + "_skipped"),
            TimeSpan.FromSeconds(30), "the error and skipped queues");

        // The delay queue's name carries the wait that was deferred: 2000 ms for the 503's Retry-After, but a loaded CI
        // run deferred a 50 ms retry wait instead (hokusai-webhook-delivery_delay_50ms in RabbitMQ's log), so any of the
        // delivery queue's delay queues. Named endpoints too. The management API lists a new queue a moment after it is
        // declared: wait for each.
        string? delayQueue = null;
        await RabbitMqManagement.Eventually(async () =>
                (delayQueue = (await scenario.Rabbit.QueuesAsync()).Keys.FirstOrDefault(q => q.StartsWith(Scenario.Queue + "_delay_", StringComparison.Ordinal))) is not null,
            TimeSpan.FromSeconds(30), "the delivery's delay queue");
        foreach (var queue in new[] { Scenario.Queue, "hokusai-webhook-delivery-token", Scenario.ErrorQueue, Scenario.Queue + "_skipped",
                     delayQueue!, "hokusai-redis-fallback" })
        {
            await RabbitMqManagement.Eventually(async () => await scenario.Rabbit.QueueTypeAsync(queue) is not null,
                TimeSpan.FromSeconds(30), $"queue {queue} listed");
            Assert.Equal("quorum", await scenario.Rabbit.QueueTypeAsync(queue));
        }
    }
}
