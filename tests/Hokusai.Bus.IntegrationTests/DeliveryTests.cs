using System.Net;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>The host as a process, on real RabbitMQ, delivering to a real receiver on 127.0.0.1.</summary>
public sealed class DeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [RabbitFact]
    public async Task Raw_json_from_a_python_producer_is_delivered_with_and_without_content_type()
    {
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync();
        var seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json"));

        await scenario.PublishAsync(seed, contentType: "application/json");
        await scenario.PublishAsync(seed.Replace("550e8400", "660e8400", StringComparison.Ordinal), contentType: null);
        await scenario.Receiver.WaitForAcceptedAsync(2, Wait);

        var first = scenario.Receiver.Requests.First(r => r.IdempotencyKey!.StartsWith("550e8400", StringComparison.Ordinal));
        // The exact bytes the contracts' serializer makes of the guide's example: compact, same fields, same order.
        Assert.Equal(ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(seed))), first.Body);
        Assert.True(first.SignatureValid);
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [RabbitFact]
    public async Task Server_errors_then_success_deliver_once_with_nothing_in_error()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = info => ValueTask.FromResult(
            info.Number <= 3 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync();

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        Assert.Equal(4, scenario.Receiver.RequestCount);
        Assert.Single(scenario.Receiver.Requests.Select(r => Convert.ToHexString(r.Body)).Distinct());
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [RabbitFact]
    public async Task A_receiver_slower_than_the_timeout_is_retried_until_it_answers_in_time()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number == 1
            ? new WebhookReceiver.Response(200, TimeSpan.FromSeconds(5))
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_TIMEOUT"] = "0.5" });

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        Assert.Equal(2, scenario.Receiver.RequestCount);
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [RabbitFact]
    public async Task Retries_spent_while_the_endpoint_accepts_others_put_the_message_in_the_error_queue_with_the_reason()
    {
        await using var scenario = await Scenario.StartAsync();
        var key = Guid.NewGuid().ToString();
        HostProcess? host = null;
        var attempts = 0;
        scenario.Receiver.Respond = async info =>
        {
            if (info.IdempotencyKey != key)
            {
                return WebhookReceiver.Response.Ok;
            }

            if (Interlocked.Increment(ref attempts) == 3)
            {
                // Before the last refusal, another registration is delivered: the endpoint is up, only this one fails.
                await scenario.PublishAsync(Payloads.Registration());
                await HostMetrics.WaitForAsync(host!, "webhook_publish_success_total", 1, Wait);
            }

            return new WebhookReceiver.Response(500);
        };
        host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["WEBHOOK_MAX_RETRIES"] = "2",
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "100",
        });

        await scenario.PublishAsync(Payloads.Registration(key));
        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 1, Wait, "one message in _error");

        var dead = Assert.Single(await scenario.ErrorsAsync());
        Assert.Contains(key, dead.Payload);
        Assert.Contains("failed after 3 attempt(s)", dead.Header("MT-Fault-Message"));
        Assert.Contains("HTTP 500", dead.Header("MT-Fault-Message"));
        Assert.Equal(3, scenario.Receiver.Requests.Count(r => r.IdempotencyKey == key));
        await RabbitMqManagement.Eventually(async () => await scenario.Rabbit.DepthAsync(Scenario.Queue) == (0, 0), Wait,
            "the delivery queue empty and acknowledged");
    }

    [RabbitFact]
    public async Task A_malformed_message_goes_to_the_error_queue_and_the_host_keeps_delivering()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();

        await scenario.PublishAsync("{\"model_id\": \"broken\", \"timestamp\": ");
        await scenario.PublishAsync(Payloads.Registration() .Replace("\"TOKEN_ABC\"", "\"\"", StringComparison.Ordinal));
        await scenario.PublishAsync(Payloads.Registration());

        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 2, Wait, "two messages in _error");
        var errors = await scenario.ErrorsAsync();
        Assert.Contains(errors, e => e.Payload.Contains("broken", StringComparison.Ordinal)
                                     && e.Header("MT-Reason") is not null);
        Assert.Contains(errors, e => e.Header("MT-Fault-Message")?.Contains("token_symbol is required", StringComparison.Ordinal) == true);
        Assert.False(host.HasExited);
        Assert.Equal(1, scenario.Receiver.RequestCount);
    }

    [RabbitFact]
    public async Task A_string_where_a_metric_belongs_is_dead_lettered_and_logged_naming_the_field_in_the_same_words()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();
        const string Reason = "Invalid ModelRegistered: baseline_metrics.accuracy has the wrong JSON type: it must be a number.";

        await scenario.PublishAsync(Payloads.Registration("string-metric").Replace("0.85", "\"0.85\"", StringComparison.Ordinal));

        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 1, Wait, "the message in _error");
        var dead = Assert.Single(await scenario.ErrorsAsync());
        Assert.Equal(Reason, dead.Header("MT-Fault-Message"));
        Assert.Equal("Hokusai.Bus.Contracts.InvalidModelRegistrationException", dead.Header("MT-Fault-ExceptionType"));
        // The host's R-FAULT line says the same, field and all.
        await host.WaitForOutputAsync($"(InvalidModelRegistrationException: {Reason})", Wait, "the R-FAULT line naming the field");
        Assert.Contains("R-FAULT", host.Output, StringComparison.Ordinal);
        Assert.Equal(0, scenario.Receiver.RequestCount);
    }

    [RabbitFact]
    public async Task The_breaker_opens_after_the_threshold_sends_nothing_while_open_and_everything_arrives_after()
    {
        await using var scenario = await Scenario.StartAsync();
        var recovered = false;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(
            Volatile.Read(ref recovered) ? WebhookReceiver.Response.Ok : new WebhookReceiver.Response(503));
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "3",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "2",
            ["WEBHOOK_MAX_RETRIES"] = "5",
            ["WEBHOOK_CONCURRENCY"] = "1",
        });

        for (var i = 0; i < 5; i++)
        {
            await scenario.PublishAsync(Payloads.Registration());
        }

        await scenario.Receiver.WaitForRequestsAsync(3, Wait);
        // Open: the next request is the trial, one recovery time after the third failure.
        await scenario.Receiver.WaitForRequestsAsync(4, Wait);
        var requests = scenario.Receiver.Requests.ToArray();
        Assert.True(requests[3].ReceivedAt - requests[2].ReceivedAt >= TimeSpan.FromSeconds(1.9),
            $"trial came {(requests[3].ReceivedAt - requests[2].ReceivedAt).TotalSeconds:0.00} s after the breaker opened");
        // Meanwhile the other four wait, ready, in RabbitMQ (one is held by the host), and none is in the error queue.
        Assert.Equal(4, (await scenario.Rabbit.PeekAsync(Scenario.Queue)).Count);
        Assert.Empty(await scenario.ErrorsAsync());

        Volatile.Write(ref recovered, true);
        await scenario.Receiver.WaitForAcceptedAsync(5, Wait);

        requests = scenario.Receiver.Requests.ToArray();
        Assert.True(requests[4].ReceivedAt - requests[3].ReceivedAt >= TimeSpan.FromSeconds(1.9),
            "the failed trial must reopen the breaker for a full recovery time");
        Assert.Equal(4 + 5, requests.Length); // 3 to open, 1 failed trial, then each message once
        Assert.Empty(await scenario.ErrorsAsync());
        await RabbitMqManagement.Eventually(async () => await scenario.Rabbit.DepthAsync(Scenario.Queue) == (0, 0), Wait, "queue drained");
    }

    [RabbitFact]
    public async Task A_host_stopped_mid_delivery_leaves_the_rest_queued_for_the_next_one()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(200, TimeSpan.FromMilliseconds(300)));
        var first = await scenario.StartHostAsync(new Dictionary<string, string> { ["WEBHOOK_CONCURRENCY"] = "2" });
        var keys = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid().ToString()).ToList();
        foreach (var key in keys)
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        await scenario.Receiver.WaitForAcceptedAsync(3, Wait);
        Assert.Equal(0, await first.StopAsync());
        var deliveredByFirst = scenario.Receiver.AcceptedKeys.Count;
        Assert.True(deliveredByFirst < keys.Count, "the first host should not have drained the queue");

        await scenario.StartHostAsync();
        await scenario.Receiver.WaitForAcceptedAsync(keys.Count, Wait);

        Assert.Equal(keys.Order(), scenario.Receiver.AcceptedKeys.Order());
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [RabbitFact]
    public async Task A_bad_setting_stops_the_host_naming_the_variable_and_never_the_secret()
    {
        await using var scenario = await Scenario.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = scenario.Rabbit.AmqpUrl.ToString(),
            ["WEBHOOK_URL"] = "not a url",
            ["WEBHOOK_SECRET"] = Scenario.Secret,
            ["WEBHOOK_MAX_RETRIES"] = "many",
        };

        await using var host = await HostProcess.StartAsync(environment, waitForBus: false);
        var exitCode = await host.WaitForExitAsync(Wait);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("WEBHOOK_URL", host.Output);
        Assert.Contains("WEBHOOK_MAX_RETRIES", host.Output);
        Assert.DoesNotContain(Scenario.Secret, host.Output);
    }

    [Theory]
    [InlineData("RABBITMQ_URL", "http://guest:guest@localhost:5672/")]
    [InlineData("RABBITMQ_URL", "not a url")]
    [InlineData("REDIS_URL", "redis://")]
    [InlineData("REDIS_URL", "http://localhost:6379")]
    public async Task A_bad_broker_or_redis_url_is_listed_with_the_other_settings_exit_2_and_no_stack_trace(string variable, string value)
    {
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = "amqp://guest:guest@127.0.0.1:5672/",
            ["WEBHOOK_URL"] = "http://127.0.0.1:9/hook",
            ["WEBHOOK_SECRET"] = Scenario.Secret,
            ["WEBHOOK_TIMEOUT"] = "-1",
            ["ENABLE_REDIS_FALLBACK"] = "true",
            [variable] = value,
        };

        await using var host = await HostProcess.StartAsync(environment, waitForBus: false);
        var exitCode = await host.WaitForExitAsync(Wait);

        Assert.Equal(2, exitCode);
        Assert.Contains("cannot start; fix these settings", host.Output, StringComparison.Ordinal);
        Assert.Contains($"  {variable} must", host.Output, StringComparison.Ordinal);
        Assert.Contains("  WEBHOOK_TIMEOUT must be greater than 0 seconds.", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Unhandled exception", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Scenario.Secret, host.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Secrets_from_files_sign_the_deliveries_and_open_the_broker()
    {
        await using var scenario = await Scenario.StartAsync();
        var secrets = Directory.CreateTempSubdirectory("hokusai-secrets-");
        try
        {
            // As Docker mounts secrets: one file each, with a trailing newline. The URL's password is wrong, so the
            // host reaches the broker only with the file's.
            var webhookSecret = Path.Combine(secrets.FullName, "webhook_secret");
            var brokerPassword = Path.Combine(secrets.FullName, "rabbitmq_password");
            await File.WriteAllTextAsync(webhookSecret, Scenario.Secret + "\n");
            await File.WriteAllTextAsync(brokerPassword, "guest\n");
            var environment = new Dictionary<string, string>
            {
                ["RABBITMQ_URL"] = scenario.Rabbit.AmqpUrl.ToString().Replace("guest:guest@", "guest:not-the-password@", StringComparison.Ordinal),
                ["RABBITMQ_PASSWORD_FILE"] = brokerPassword,
                ["WEBHOOK_URL"] = scenario.Receiver.Url.ToString(),
                ["WEBHOOK_SECRET_FILE"] = webhookSecret,
            };
            await using var host = await HostProcess.StartAsync(environment);

            await scenario.PublishAsync(Payloads.Registration());
            await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

            Assert.True(Assert.Single(scenario.Receiver.Requests).SignatureValid);
            Assert.DoesNotContain(Scenario.Secret, host.Output, StringComparison.Ordinal);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }

    [RabbitTheory]
    [InlineData("password", "it refused the login of user 'guest' (ACCESS_REFUSED): check the user and password in RABBITMQ_URL, or RABBITMQ_PASSWORD / RABBITMQ_PASSWORD_FILE")]
    [InlineData("vhost", "the user 'guest' may not open virtual host 'no-such-vhost' (NOT_ALLOWED): create it, give the user permissions on it, or fix the path of RABBITMQ_URL")]
    [InlineData("port", "nothing accepts connections there: check that RabbitMQ is running there and the host and port of RABBITMQ_URL")]
    public async Task A_broker_that_refuses_the_host_is_named_in_one_line_without_stack_traces_and_readiness_stays_503(string wrong, string problem)
    {
        await using var scenario = await Scenario.StartAsync();
        const string password = "not-the-password-4711";
        var port = LoopbackPort.Free();
        var url = wrong switch
        {
            "password" => $"amqp://guest:{password}@127.0.0.1:{Services.AmqpPort}/",
            "vhost" => $"amqp://guest:guest@127.0.0.1:{Services.AmqpPort}/no-such-vhost",
            _ => $"amqp://guest:guest@127.0.0.1:{port}/",
        };
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = url,
            ["WEBHOOK_URL"] = scenario.Receiver.Url.ToString(),
            ["WEBHOOK_SECRET"] = Scenario.Secret,
        };
        await using var host = await HostProcess.StartAsync(environment, waitForBus: false);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        await host.WaitForOutputAsync("Cannot connect to RabbitMQ", Wait, "the host to name the problem");
        // Through several of MassTransit's reconnection attempts, the host keeps running, unready, and says it once.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(12);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(host.HasExited);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/ready")).StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var line = Assert.Single(host.Output.Split('\n'), l => l.Contains("Cannot connect to RabbitMQ", StringComparison.Ordinal));
        var shown = url.Replace(password, "***", StringComparison.Ordinal).Replace("guest:guest@", "guest:***@", StringComparison.Ordinal);
        Assert.Contains($"Cannot connect to RabbitMQ at {shown}: {problem}. Retrying; /health/ready answers 503 until connected.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(password, host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Scenario.Secret, host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_http_to_a_host_that_is_not_loopback_stops_the_host_unless_allowed()
    {
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = "amqp://guest:guest@127.0.0.1:5672/",
            ["WEBHOOK_URL"] = "http://hooks.example.com/api/models/ready",
            ["WEBHOOK_SECRET"] = Scenario.Secret,
        };

        await using var host = await HostProcess.StartAsync(environment, waitForBus: false);

        Assert.Equal(2, await host.WaitForExitAsync(Wait));
        Assert.Contains("  WEBHOOK_URL is plain http:// to http://hooks.example.com/api/models/ready, which is not loopback", host.Output, StringComparison.Ordinal);
        Assert.Contains("set WEBHOOK_ALLOW_HTTP=true", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
    }
}
