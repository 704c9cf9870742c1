using Hokusai.Bus.Contracts;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>
/// <c>publish</c> and <c>dead-letters list|replay</c> on the local RabbitMQ, each test in its own throwaway virtual
/// host (skipped with the reason when RabbitMQ is not reachable, except under CI).
/// </summary>
public sealed class RabbitTests
{
    private const string Exchange = "Hokusai.Bus.Contracts:ModelRegistered";

    [RabbitFact]
    public async Task Publish_with_count_sends_that_many_registrations_each_with_its_own_key()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        await DeclareBoundQueueAsync(api, rabbit.VirtualHost, "q");

        var result = await CliProcess.RunAsync(
            "publish", "--rabbitmq", rabbit.AmqpUrl.ToString(), "--model-id", "model_load", "--token-symbol", "TOKEN_LOAD",
            "--version", "1", "--metric", "accuracy=0.85", "--metric", "f1_score=0.82", "--model-name", "load-model", "--count", "5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Published 5 registrations", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("guest:guest", result.Output, StringComparison.Ordinal);
        var messages = await rabbit.PeekAsync("q");
        Assert.Equal(5, messages.Count);
        // The webhook body itself, raw JSON as Python producers publish it (no MassTransit envelope).
        var registrations = messages.Select(m => JsonNode.Parse(m.Payload)!).ToList();
        Assert.Equal(5, registrations.Select(r => r["idempotency_key"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(
            Enumerable.Range(1, 5).Select(i => $"model_load-{i}").Order(),
            registrations.Select(r => r["model_id"]!.GetValue<string>()).Order());
        Assert.All(registrations, r =>
        {
            Assert.Equal("TOKEN_LOAD", r["token_symbol"]!.GetValue<string>());
            Assert.Equal(0.82, r["baseline_metrics"]!["f1_score"]!.GetValue<double>());
            Assert.Equal("load-model", r["metadata"]!["model_name"]!.GetValue<string>());
        });
    }

    [RabbitFact]
    public async Task The_readmes_publish_synopsis_with_its_fields_filled_in_publishes()
    {
        // The README's tool table, as a user copies it: the fields alternative, placeholders filled in.
        var row = File.ReadLines(Path.Combine(BuildOutput.RepositoryRoot, "README.md")).Single(l => l.StartsWith("| `publish ", StringComparison.Ordinal));
        var synopsis = row.Split('`')[1];
        var fields = synopsis[(synopsis.IndexOf("\\| ", StringComparison.Ordinal) + 3)..synopsis.IndexOf(']', StringComparison.Ordinal)];
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        await DeclareBoundQueueAsync(api, rabbit.VirtualHost, "q");
        var args = new List<string> { "publish", "--rabbitmq", rabbit.AmqpUrl.ToString() };
        args.AddRange(fields.Split(' ').Select(word => word switch { "M" => "model_doc", "T" => "TOKEN_DOC", "V" => "1", _ => word }));

        var result = await CliProcess.RunAsync([.. args]);

        Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)}\n{result}");
        Assert.Single(await rabbit.PeekAsync("q"));
    }

    [RabbitFact]
    public async Task Publish_of_a_payload_file_keeps_its_key_and_fields()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        await DeclareBoundQueueAsync(api, rabbit.VirtualHost, "q");
        var seed = Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json");

        var result = await CliProcess.RunAsync("publish", "--rabbitmq", rabbit.AmqpUrl.ToString(), "--file", seed);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("idempotency_key: 550e8400-e29b-41d4-a716-446655440000", result.Output, StringComparison.Ordinal);
        var message = JsonNode.Parse(Assert.Single(await rabbit.PeekAsync("q")).Payload)!;
        Assert.Equal("model_abc123", message["model_id"]!.GetValue<string>());
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", message["idempotency_key"]!.GetValue<string>());
        Assert.Equal("2024-01-15T10:30:00Z", message["timestamp"]!.GetValue<string>());
        Assert.Equal("classification", message["metadata"]!["tags"]!["model_type"]!.GetValue<string>());
    }

    [RabbitFact]
    public async Task Dead_letters_list_shows_keys_and_reasons_without_consuming_and_replay_moves_them_all_back()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "q", "q_error");

        var keys = new[] { "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333" };
        for (var i = 0; i < keys.Length; i++)
        {
            await PublishDeadLetterAsync(api, v, keys[i], $"model_{i}", "2024-01-15T10:31:02.5Z");
        }

        string[] connection = ["--queue", "q", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString(), "--user", "guest", "--password", "guest"];
        var list = await CliProcess.RunAsync(["dead-letters", "list", .. connection]);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("q_error", list.Lines[0], StringComparison.Ordinal);
        Assert.Contains("3 message(s)", list.Lines[0], StringComparison.Ordinal);
        // The suggested command acts on the same vhost, not on "/".
        Assert.EndsWith($"Replay: hokusai-bus dead-letters replay --queue q --management http://127.0.0.1:{Services.ManagementPort} --vhost {rabbit.VirtualHost}",
            list.Lines[0], StringComparison.Ordinal);
        foreach (var key in keys)
        {
            Assert.Contains($"idempotency key {key}", list.Output, StringComparison.Ordinal);
            Assert.Contains($"reason:    Webhook delivery of {key} failed after 6 attempt(s); last: HTTP 500 (InternalServerError).", list.Output, StringComparison.Ordinal);
        }

        Assert.Contains("exception: Hokusai.Bus.WebhookDeliveryException", list.Output, StringComparison.Ordinal);
        Assert.Contains("failed at: 2024-01-15T10:31:02.5Z", list.Output, StringComparison.Ordinal);
        Assert.Equal(3, (await rabbit.PeekAsync("q_error")).Count); // listed, not consumed

        var replay = await CliProcess.RunAsync(["dead-letters", "replay", .. connection]);

        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("Moved 3 message(s) from q_error to q", replay.Output, StringComparison.Ordinal);
        Assert.Empty(await rabbit.PeekAsync("q_error"));
        var moved = await rabbit.PeekAsync("q");
        Assert.Equal(keys.Order(), moved.Select(m => JsonNode.Parse(m.Payload)!["idempotency_key"]!.GetValue<string>()).Order());
        Assert.All(moved, m => Assert.StartsWith("Webhook delivery of", m.Header("MT-Fault-Message"), StringComparison.Ordinal));

        var again = await CliProcess.RunAsync(["dead-letters", "replay", .. connection]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("Moved 0 message(s)", again.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Replay_with_key_model_since_and_limit_moves_only_those_and_list_json_shows_the_rest()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "q", "q_error");

        var letters = new (string Key, string Model, string FailedAt)[]
        {
            ("11111111-1111-4111-8111-111111111111", "model_a", "2024-01-15T10:00:00Z"),
            ("22222222-2222-4222-8222-222222222222", "model_a", "2024-01-16T10:00:00Z"),
            ("33333333-3333-4333-8333-333333333333", "model_b", "2024-01-17T10:00:00Z"),
            ("44444444-4444-4444-8444-444444444444", "model_b", "2024-01-18T10:00:00Z"),
        };
        foreach (var (key, model, failedAt) in letters)
        {
            await PublishDeadLetterAsync(api, v, key, model, failedAt);
        }

        string[] connection = ["--queue", "q", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString()];
        async Task<string[]> Keys(string queue) =>
            [.. (await rabbit.PeekAsync(queue)).Select(m => JsonNode.Parse(m.Payload)!["idempotency_key"]!.GetValue<string>()).Order()];

        var json = await CliProcess.RunAsync(["dead-letters", "list", "--json", .. connection]);
        Assert.True(json.ExitCode == 0, json.ToString());
        var listed = JsonNode.Parse(json.Output)!;
        Assert.Equal(4, listed["total"]!.GetValue<int>());
        Assert.Equal(letters.Select(l => l.Key), listed["messages"]!.AsArray().Select(m => m!["idempotency_key"]!.GetValue<string>()));
        Assert.Equal("model_b", listed["messages"]![3]!["model_id"]!.GetValue<string>());
        Assert.Equal("2024-01-18T10:00:00Z", listed["messages"]![3]!["failed_at"]!.GetValue<string>());
        Assert.StartsWith("Webhook delivery of 4444", listed["messages"]![3]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        var byKey = await CliProcess.RunAsync(["dead-letters", "replay", "--key", letters[1].Key, .. connection, "--amqp", rabbit.AmqpUrl.ToString()]);
        Assert.True(byKey.ExitCode == 0, byKey.ToString());
        Assert.Contains("Moved 1 of 4 message(s) from q_error to q", byKey.Output, StringComparison.Ordinal);
        Assert.Equal([letters[1].Key], await Keys("q"));
        Assert.Equal([letters[0].Key, letters[2].Key, letters[3].Key], await Keys("q_error"));

        var byModel = await CliProcess.RunAsync(["dead-letters", "replay", "--model-id", "model_b", "--limit", "1", .. connection, "--amqp", rabbit.AmqpUrl.ToString()]);
        Assert.True(byModel.ExitCode == 0, byModel.ToString());
        Assert.Contains("Moved 1 of 3 message(s)", byModel.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await Keys("q")).Length);
        Assert.Contains(letters[0].Key, await Keys("q_error"));

        var bySince = await CliProcess.RunAsync(["dead-letters", "replay", "--since", "2024-01-17T00:00:00Z", .. connection, "--amqp", rabbit.AmqpUrl.ToString()]);
        Assert.True(bySince.ExitCode == 0, bySince.ToString());
        Assert.Contains("Moved 1 of 2 message(s)", bySince.Output, StringComparison.Ordinal);

        // Every registration is in exactly one place, headers kept; the one nothing selected is still a dead letter.
        Assert.Equal([letters[1].Key, letters[2].Key, letters[3].Key], await Keys("q"));
        var left = Assert.Single(await rabbit.PeekAsync("q_error"));
        Assert.Equal(letters[0].Key, JsonNode.Parse(left.Payload)!["idempotency_key"]!.GetValue<string>());
        Assert.Equal("2024-01-15T10:00:00Z", left.Header("MT-Fault-Timestamp"));
        Assert.All(await rabbit.PeekAsync("q"), m => Assert.StartsWith("Webhook delivery of", m.Header("MT-Fault-Message"), StringComparison.Ordinal));
    }

    [RabbitTheory]
    [InlineData("properties")]
    [InlineData("headers")]
    [InlineData("envelope")]
    public async Task A_dead_lettered_deltaone_event_from_ingest_is_listed_by_its_key_and_model_and_replayed_by_key(string form)
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "q", "q_error");
        // As the host's /ingest publishes it (the event's bytes, the rest in AMQP properties), or as older hosts did:
        // the rest in headers, or a PipelineEvent in MassTransit's envelope, the event's bytes in base64.
        var bare = form != "envelope";
        var body = """{"attestation_hash":"0x1","event_type":"deltaone.minted","model_id":"21","run_id":"run-abc"}"""u8.ToArray();
        var key = DeltaOneEventKey.For("deltaone.minted", body);
        var envelope = new JsonObject
        {
            ["messageType"] = new JsonArray("urn:message:Hokusai.Bus.Contracts:PipelineEvent"),
            ["message"] = new JsonObject
            {
                ["eventType"] = "deltaone.minted",
                ["shape"] = 2,
                ["body"] = Convert.ToBase64String(body),
                ["receivedAt"] = "2026-12-06T10:00:00Z",
                ["idempotencyKey"] = key,
            },
        };
        var headers = new Dictionary<string, string> { ["MT-Fault-Message"] = $"Webhook delivery of {key} refused: HTTP 413.", ["MT-Reason"] = "fault" };
        if (form == "headers")
        {
            headers["Hokusai-Event-Type"] = "deltaone.minted";
            headers["Hokusai-Event-Shape"] = "deltaone";
            headers["Hokusai-Idempotency-Key"] = key;
            headers["Hokusai-Model-Id"] = "21";
            headers["Hokusai-Received-At"] = "2026-12-06T10:00:00.0000000+00:00";
        }

        var payload = bare ? System.Text.Encoding.UTF8.GetString(body) : envelope.ToJsonString();
        var response = await api.PostAsJsonAsync($"exchanges/{v}/amq.default/publish", new
        {
            properties = form == "properties"
                ? (object)new
                {
                    delivery_mode = 2, content_type = "application/vnd.hokusai.pipeline-event+json; shape=deltaone", message_id = key,
                    type = "deltaone.minted", timestamp = 1_796_551_200, headers,
                }
                : new
                {
                    delivery_mode = 2, content_type = bare ? "application/vnd.hokusai.pipeline-event+json" : "application/vnd.masstransit+json", headers,
                },
            routing_key = "q_error",
            payload,
            payload_encoding = "string",
        });
        response.EnsureSuccessStatusCode();
        string[] connection = ["--queue", "q", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString()];

        var json = await CliProcess.RunAsync(["dead-letters", "list", "--json", .. connection]);
        var listed = Assert.Single(JsonNode.Parse(json.Output)!["messages"]!.AsArray())!;
        var replay = await CliProcess.RunAsync(["dead-letters", "replay", "--key", key, .. connection, "--amqp", rabbit.AmqpUrl.ToString()]);

        Assert.Equal(key, listed["idempotency_key"]!.GetValue<string>());
        Assert.Equal("21", listed["model_id"]!.GetValue<string>());
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("Moved 1 of 1 message(s) from q_error to q", replay.Output, StringComparison.Ordinal);
        var moved = Assert.Single(await rabbit.PeekAsync("q"));
        Assert.Equal(payload, moved.Payload); // unaltered
        Assert.Equal(form == "headers" ? key : null, moved.Header("Hokusai-Idempotency-Key"));
        Assert.Equal(form == "properties" ? key : null, moved.Properties["message_id"]?.GetValue<string>()); // properties kept
    }

    [RabbitFact]
    public async Task Dead_letters_endpoint_names_a_webhook_endpoints_queues()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "hokusai-webhook-delivery-token", "hokusai-webhook-delivery-token_error", "hokusai-webhook-delivery_error");

        const string key = "44444444-4444-4444-8444-444444444444";
        var response = await api.PostAsJsonAsync($"exchanges/{v}/amq.default/publish", new
        {
            properties = new { delivery_mode = 2, headers = new Dictionary<string, string> { ["MT-Fault-Message"] = "HTTP 413" } },
            routing_key = "hokusai-webhook-delivery-token_error",
            payload = $"{{\"model_id\":\"model_t\",\"idempotency_key\":\"{key}\",\"registered_version\":\"1\",\"token_symbol\":\"T\"}}",
            payload_encoding = "string",
        });
        response.EnsureSuccessStatusCode();
        string[] connection = ["--endpoint", "token", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString()];

        var list = await CliProcess.RunAsync(["dead-letters", "list", .. connection]);
        var replay = await CliProcess.RunAsync(["dead-letters", "replay", .. connection]);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("hokusai-webhook-delivery-token_error", list.Lines[0], StringComparison.Ordinal);
        Assert.Contains($"idempotency key {key}", list.Output, StringComparison.Ordinal);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("Moved 1 message(s) from hokusai-webhook-delivery-token_error to hokusai-webhook-delivery-token", replay.Output, StringComparison.Ordinal);
        Assert.Single(await rabbit.PeekAsync("hokusai-webhook-delivery-token"));
    }

    [RabbitFact]
    public async Task A_queue_without_an_error_queue_yet_has_0_dead_letters_and_a_wrongly_typed_one_is_still_named()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "q", "w", "w_error");
        // A string where a metric belongs: the reason it is a dead letter, and no reason to hide what it is.
        (await api.PostAsJsonAsync($"exchanges/{v}/amq.default/publish", new
        {
            properties = new { delivery_mode = 2, headers = new Dictionary<string, string> { ["MT-Fault-Message"] = "baseline_metrics.accuracy has the wrong JSON type" } },
            routing_key = "w_error",
            payload = """{"model_id":"model_w","idempotency_key":"k-wrong-type","registered_version":"1","timestamp":"2024-01-15T10:30:00Z","token_symbol":"T","baseline_metrics":{"accuracy":"0.85"}}""",
            payload_encoding = "string",
        })).EnsureSuccessStatusCode();

        var none = await CliProcess.RunAsync("dead-letters", "list", "--queue", "q", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString());
        var wrong = await CliProcess.RunAsync("dead-letters", "list", "--queue", "w", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString());

        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal($"q_error (vhost {rabbit.VirtualHost}): 0 message(s)", none.Lines[0]);
        Assert.True(wrong.ExitCode == 0, wrong.ToString());
        Assert.Contains("idempotency key k-wrong-type  model model_w", wrong.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Dead_letters_of_a_queue_that_does_not_exist_is_an_error()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");

        var result = await CliProcess.RunAsync("dead-letters", "list", "--queue", "nothing-here", "--vhost", rabbit.VirtualHost, "--management", Services.ManagementUrl.ToString());

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("queue nothing-here does not exist", result.Error, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Dead_letters_reads_the_broker_from_RABBITMQ_URL_as_publish_does_vhost_and_credentials_included()
    {
        // The issue: RABBITMQ_URL pointed at another vhost, and dead-letters listed "/" ("0 message(s)", exit 0).
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");
        using var api = Api();
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        await DeclareQueuesAsync(api, v, "q", "q_error");
        await PublishDeadLetterAsync(api, v, "44444444-4444-4444-8444-444444444444", "model_env", "2024-01-15T10:31:02.5Z");
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = rabbit.AmqpUrl.ToString(),
            ["RABBITMQ_MANAGEMENT_URL"] = Services.ManagementUrl.ToString(),
        };

        var list = await CliProcess.RunAsync(["dead-letters", "list", "--queue", "q"], environment: environment);
        var replay = await CliProcess.RunAsync(["dead-letters", "replay", "--queue", "q", "--key", "44444444-4444-4444-8444-444444444444"],
            environment: environment);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.StartsWith($"q_error (vhost {rabbit.VirtualHost}): 1 message(s)", list.Lines[0], StringComparison.Ordinal);
        Assert.Contains("idempotency key 44444444-4444-4444-8444-444444444444", list.Output, StringComparison.Ordinal);
        Assert.True(replay.ExitCode == 0, replay.ToString()); // the selective replay's AMQP connection: the same broker
        Assert.Contains("Moved 1 of 1 message(s) from q_error to q", replay.Output, StringComparison.Ordinal);
        Assert.Single(await rabbit.PeekAsync("q"));
    }

    [RabbitFact]
    public async Task A_virtual_host_that_does_not_exist_is_named_not_answered_401()
    {
        var missing = "hokusai-cli-missing-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = Services.AmqpUrl(missing).ToString(),
            ["RABBITMQ_MANAGEMENT_URL"] = Services.ManagementUrl.ToString(),
        };

        var fromUrl = await CliProcess.RunAsync(["dead-letters", "list"], environment: environment);
        var fromOption = await CliProcess.RunAsync(["dead-letters", "replay", "--vhost", missing], environment: environment);

        Assert.True(fromUrl.ExitCode == 1, fromUrl.ToString());
        Assert.Equal($"Error: virtual host '{missing}' (from RABBITMQ_URL) does not exist on {Services.ManagementUrl}.", fromUrl.Error.Trim());
        Assert.True(fromOption.ExitCode == 1, fromOption.ToString());
        Assert.Contains($"virtual host '{missing}' (from --vhost) does not exist", fromOption.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("401", fromUrl.Error + fromOption.Error, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Publish_of_a_registration_no_queue_receives_fails_naming_the_exchange()
    {
        // A vhost where no host has started: the exchange exists (MassTransit declares it), but nothing is bound to it.
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");

        var result = await CliProcess.RunAsync(["publish", "--model-id", "m", "--token-symbol", "T", "--version", "1", "--timeout", "10"],
            environment: new Dictionary<string, string> { ["RABBITMQ_URL"] = rabbit.AmqpUrl.ToString() });
        var load = await CliProcess.RunAsync(
            "publish", "--rabbitmq", rabbit.AmqpUrl.ToString(), "--model-id", "m", "--token-symbol", "T", "--version", "1", "--count", "3", "--timeout", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.DoesNotContain("confirmed", result.Output, StringComparison.Ordinal);
        Assert.Equal(
            $"Error: the broker returned the registration: exchange {Exchange} on amqp://guest:***@127.0.0.1:{Services.AmqpPort}/{rabbit.VirtualHost} "
            + "routed it to no queue, so nothing will deliver it. Start the host on this virtual host (it binds its queues to the exchange), or check the vhost.",
            result.Error.Trim());
        Assert.True(load.ExitCode == 1, load.ToString());
        Assert.Contains($"the broker returned the registration: exchange {Exchange}", load.Error, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Deliveries_before_any_host_wrote_the_log_says_there_is_none_yet()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli");

        var result = await CliProcess.RunAsync("deliveries", "--rabbitmq", rabbit.AmqpUrl.ToString());

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("Error: There is no delivery log in this virtual host yet: hokusai-delivery-log is created by the first host that delivers.",
            result.Error.Trim());
    }

    /// <summary>A registration in <c>q_error</c> with the headers MassTransit's error transport writes.</summary>
    private static async Task PublishDeadLetterAsync(HttpClient api, string escapedVhost, string key, string modelId, string failedAt)
    {
        var payload = $"{{\"model_id\":\"{modelId}\",\"idempotency_key\":\"{key}\",\"registered_version\":\"1\",\"timestamp\":\"2024-01-15T10:30:00Z\",\"token_symbol\":\"TOKEN\"}}";
        var response = await api.PostAsJsonAsync($"exchanges/{escapedVhost}/amq.default/publish", new
        {
            properties = new
            {
                delivery_mode = 2,
                content_type = "application/json",
                headers = new Dictionary<string, string>
                {
                    ["MT-Fault-Message"] = $"Webhook delivery of {key} failed after 6 attempt(s); last: HTTP 500 (InternalServerError).",
                    ["MT-Fault-ExceptionType"] = "Hokusai.Bus.WebhookDeliveryException",
                    ["MT-Fault-Timestamp"] = failedAt,
                    ["MT-Reason"] = "fault",
                },
            },
            routing_key = "q_error",
            payload,
            payload_encoding = "string",
        });
        response.EnsureSuccessStatusCode();
    }

    private static HttpClient Api()
    {
        var http = new HttpClient { BaseAddress = new Uri(Services.ManagementUrl, "api/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        return http;
    }

    /// <summary>The exchange MassTransit publishes to (as it declares it), and a queue bound to it, as the host would have.</summary>
    private static async Task DeclareQueuesAsync(HttpClient api, string escapedVhost, params string[] queues)
    {
        foreach (var queue in queues)
        {
            (await api.PutAsJsonAsync($"queues/{escapedVhost}/{queue}", new { durable = true })).EnsureSuccessStatusCode();
        }
    }

    private static async Task DeclareBoundQueueAsync(HttpClient api, string vhost, string queue)
    {
        var v = Uri.EscapeDataString(vhost);
        var e = Uri.EscapeDataString(Exchange);
        (await api.PutAsJsonAsync($"exchanges/{v}/{e}", new { type = "fanout", durable = true })).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"queues/{v}/{queue}", new { durable = true })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"bindings/{v}/e/{e}/q/{queue}", new { routing_key = "" })).EnsureSuccessStatusCode();
    }
}
