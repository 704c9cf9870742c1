using System.Text.Json.Nodes;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// Several webhook endpoints on one host, on real RabbitMQ with Kestrel receivers: the guide's settings define the
/// default endpoint (the Hokusai site), <c>Hokusai__Webhook__Endpoints__&lt;name&gt;__*</c> the others.
/// </summary>
public sealed class EndpointsTests
{
    private const string TokenSecret = "token-service-secret-never-logged";
    private const string AuditSecret = "audit-secret-never-logged";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task Each_service_gets_every_registration_with_its_own_signature_and_a_dead_one_changes_nothing_for_the_others()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var token = await WebhookReceiver.StartAsync(TokenSecret);
        await using var audit = await WebhookReceiver.StartAsync(AuditSecret);
        var site = scenario.Receiver;
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            // One delivery at a time per endpoint, so each receiver's order is the publish order.
            ["WEBHOOK_CONCURRENCY"] = "1",
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "2",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "0.3",
            ["Hokusai__Webhook__Endpoints__token__Url"] = token.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__token__Secret"] = TokenSecret,
            ["Hokusai__Webhook__Endpoints__audit__Url"] = audit.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__audit__Secret"] = AuditSecret,
        });
        await QueuesExistAsync(scenario, "hokusai-webhook-delivery-token", "hokusai-webhook-delivery-audit");

        // All up: every service receives every registration, in order, verified with its own secret only.
        var first = await PublishAsync(scenario, "up", 20);
        await Task.WhenAll(site.WaitForAcceptedAsync(20, Wait), token.WaitForAcceptedAsync(20, Wait), audit.WaitForAcceptedAsync(20, Wait));
        Assert.Equal(first, site.Requests.Select(r => r.IdempotencyKey));
        Assert.Equal(first, token.Requests.Select(r => r.IdempotencyKey));
        Assert.All([.. site.Requests, .. token.Requests, .. audit.Requests], r => Assert.True(r.SignatureValid));
        var bySite = site.Requests.ToDictionary(r => r.IdempotencyKey!, r => r.Signature);
        Assert.All(token.Requests, r => Assert.NotEqual(bySite[r.IdempotencyKey!], r.Signature)); // same body, other secret
        Assert.All(audit.Requests, r => Assert.NotEqual(bySite[r.IdempotencyKey!], r.Signature));

        // The token service goes down and stays down through several breaker cycles (2 failures, then trials).
        token.Respond = _ => ValueTask.FromResult(WebhookReceiver.Response.Down);
        var blocked = await PublishAsync(scenario, "blocked", 1);
        await token.WaitForRequestsAsync(20 + 6, Wait);
        using (var http = new HttpClient { BaseAddress = host.BaseUrl })
        {
            Assert.Equal("Degraded", await http.GetStringAsync("health/ready"));
        }

        // Meanwhile the site and the audit service receive the next registrations exactly as when all were up:
        // one request each, in publish order, nothing retried.
        var second = await PublishAsync(scenario, "down", 20);
        await Task.WhenAll(site.WaitForAcceptedAsync(41, Wait), audit.WaitForAcceptedAsync(41, Wait));
        Assert.Equal([.. first, .. blocked, .. second], site.Requests.Select(r => r.IdempotencyKey));
        Assert.Equal([.. first, .. blocked, .. second], audit.Requests.Select(r => r.IdempotencyKey));
        Assert.All([.. site.Requests, .. audit.Requests], r => Assert.Equal(200, r.StatusReturned));
        Assert.DoesNotContain(token.AcceptedKeys, k => k.StartsWith("down-", StringComparison.Ordinal));

        // The token service comes back and gets everything it missed; nothing went to any _error queue.
        token.Respond = _ => ValueTask.FromResult(WebhookReceiver.Response.Ok);
        await token.WaitForAcceptedAsync(41, Wait);
        Assert.All([.. first, .. blocked, .. second], key => Assert.Contains(key, token.AcceptedKeys));
        var queues = await scenario.Rabbit.QueuesAsync();
        Assert.Equal(0, queues.GetValueOrDefault("hokusai-webhook-delivery_error"));
        Assert.Equal(0, queues.GetValueOrDefault("hokusai-webhook-delivery-token_error"));
        Assert.Equal(0, queues.GetValueOrDefault("hokusai-webhook-delivery-audit_error"));
        Assert.Equal(41, await HostMetrics.ReadAsync(host, "webhook_publish_success_total", "audit"));
        Assert.True(await HostMetrics.ReadAsync(host, "webhook_publish_success_total", "token") >= 41);
        Assert.DoesNotContain(TokenSecret, host.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task A_filtered_endpoint_gets_only_matching_registrations_and_counts_the_rest()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var production = await WebhookReceiver.StartAsync(TokenSecret);
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["Hokusai__Webhook__Endpoints__prod__Url"] = production.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__prod__Secret"] = TokenSecret,
            ["Hokusai__Webhook__Endpoints__prod__Filter__TokenSymbols"] = "TOKEN_ABC,TOKEN_DEF",
            ["Hokusai__Webhook__Endpoints__prod__Filter__Tags__environment"] = "production",
        });
        await QueuesExistAsync(scenario, "hokusai-webhook-delivery-prod");

        await scenario.PublishAsync(Tagged("k-pass", "TOKEN_ABC", "production"));
        await scenario.PublishAsync(Tagged("k-pass-2", "TOKEN_DEF", "production"));
        await scenario.PublishAsync(Tagged("k-staging", "TOKEN_ABC", "staging"));
        await scenario.PublishAsync(Tagged("k-other-token", "TOKEN_XYZ", "production"));
        await scenario.PublishAsync(Tagged("k-no-tags", "TOKEN_ABC", null));

        await scenario.Receiver.WaitForAcceptedAsync(5, Wait); // the default endpoint has no filter
        await HostMetrics.WaitForAsync(host, "webhook_filtered_total", 3, Wait);
        await production.WaitForAcceptedAsync(2, Wait);

        Assert.Equal(["k-pass", "k-pass-2"], production.AcceptedKeys.Order());
        Assert.Equal(3, await HostMetrics.ReadAsync(host, "webhook_filtered_total", "prod"));
        Assert.Equal(0, await HostMetrics.ReadAsync(host, "webhook_filtered_total", "default"));
        var queues = await scenario.Rabbit.QueuesAsync();
        Assert.Equal(0, queues.GetValueOrDefault("hokusai-webhook-delivery-prod")); // filtered ones acknowledged
        Assert.Equal(0, queues.GetValueOrDefault("hokusai-webhook-delivery-prod_error"));
    }

    [RabbitFact]
    public async Task A_registration_one_endpoint_refuses_goes_to_that_endpoints_error_queue_only()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var token = await WebhookReceiver.StartAsync(TokenSecret);
        token.Respond = info => ValueTask.FromResult(info.IdempotencyKey == "refused" ? new WebhookReceiver.Response(413) : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["Hokusai__Webhook__Endpoints__token__Url"] = token.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__token__Secret"] = TokenSecret,
        });
        await QueuesExistAsync(scenario, "hokusai-webhook-delivery-token");

        await scenario.PublishAsync(Payloads.Registration("refused"));
        await scenario.PublishAsync(Payloads.Registration("accepted"));
        await scenario.Receiver.WaitForAcceptedAsync(2, Wait);
        await token.WaitForAcceptedAsync(1, Wait);
        await RabbitMqManagement.Eventually(async () => (await scenario.Rabbit.PeekAsync("hokusai-webhook-delivery-token_error")).Count == 1,
            Wait, "the refused registration in the token endpoint's _error queue");

        var dead = Assert.Single(await scenario.Rabbit.PeekAsync("hokusai-webhook-delivery-token_error"));
        Assert.Contains("\"refused\"", dead.Payload, StringComparison.Ordinal);
        Assert.Contains("413", dead.Header("MT-Fault-Message"), StringComparison.Ordinal);
        Assert.Empty(await scenario.ErrorsAsync()); // the site received it
        Assert.Equal(["accepted", "refused"], scenario.Receiver.AcceptedKeys.Order());
    }

    [RabbitFact]
    public async Task An_endpoint_removed_from_the_settings_leaves_its_queue_collecting_with_no_consumer_and_a_restored_one_drains_it()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var token = await WebhookReceiver.StartAsync(TokenSecret);
        var withToken = new Dictionary<string, string>
        {
            ["Hokusai__Webhook__Endpoints__token__Url"] = token.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__token__Secret"] = TokenSecret,
        };
        var first = await scenario.StartHostAsync(withToken);
        await QueuesExistAsync(scenario, "hokusai-webhook-delivery-token");
        await first.StopAsync();

        // Removed: the host no longer consumes it, RabbitMQ keeps it bound, registrations collect there.
        await scenario.StartHostAsync();
        await scenario.PublishAsync(Payloads.Registration("while-removed"));
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        await RabbitMqManagement.Eventually(async () => (await scenario.Rabbit.DepthAsync("hokusai-webhook-delivery-token")).Ready == 1,
            Wait, "the registration waiting in the removed endpoint's queue");
        Assert.Equal(0, await scenario.Rabbit.ConsumersAsync("hokusai-webhook-delivery-token"));
        Assert.Equal(0, token.RequestCount);

        // Configured again: it drains what collected.
        await scenario.StartHostAsync(withToken);
        await token.WaitForAcceptedAsync(1, Wait);
        Assert.Equal(["while-removed"], token.AcceptedKeys);
    }

    private static async Task<List<string>> PublishAsync(Scenario scenario, string prefix, int count)
    {
        var keys = Enumerable.Range(1, count).Select(i => $"{prefix}-{i:D2}").ToList();
        foreach (var key in keys)
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        return keys;
    }

    private static Task QueuesExistAsync(Scenario scenario, params string[] queues) =>
        RabbitMqManagement.Eventually(async () =>
        {
            var existing = await scenario.Rabbit.QueuesAsync();
            return queues.All(existing.ContainsKey);
        }, Wait, "the named endpoints' queues are declared");

    private static string Tagged(string key, string token, string? environment)
    {
        var json = JsonNode.Parse(Payloads.Registration(key))!;
        json["token_symbol"] = token;
        json["metadata"]!["tags"] = environment is null ? null : new JsonObject { ["environment"] = environment };
        return json.ToJsonString();
    }
}
