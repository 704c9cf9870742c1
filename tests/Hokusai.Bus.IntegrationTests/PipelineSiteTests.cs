using System.Net;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// docs/INTEGRATION.md's "Putting the host between the pipeline and the site": its host settings block as written, the pipeline's
/// own requests (the MLflow-event and DeltaOne vectors) POSTed to /ingest, the site as an mlflow endpoint taking all
/// four event types, and the token service's consumer checks run on what the Redis fallback writes (never a DeltaOne
/// event).
/// </summary>
public sealed class PipelineSiteTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public void The_readmes_pipeline_settings_send_every_event_to_ingest()
    {
        var settings = ReadmeSnippet.Block("pipeline-settings", "bash", ReadmeSnippet.Integration).Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToDictionary(l => l.Split('=', 2)[0], l => l.Split('=', 2)[1].Split("  #")[0].Trim());

        Assert.EndsWith("/ingest", settings["WEBHOOK_URL"], StringComparison.Ordinal);
        Assert.Contains("INGEST_SECRET", settings["WEBHOOK_SECRET"], StringComparison.Ordinal);
        // Unset, the pipeline sends its deltaone.* events to WEBHOOK_URL too, signed with WEBHOOK_SECRET
        // (webhook_config.py's load_deltaone_webhook_endpoints): all four event types reach /ingest.
        Assert.DoesNotContain("DELTAONE_WEBHOOK_ENDPOINTS", settings.Keys);
    }

    [RabbitRedisFact]
    public async Task The_readmes_host_settings_deliver_the_pipelines_posts_to_the_site_and_what_it_can_to_the_token_service()
    {
        var vectors = TestVectors.Mlflow;
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        await using var site = await WebhookReceiver.StartAsync(vectors[0].Secret);
        var secrets = Directory.CreateTempSubdirectory("hokusai-secrets-");
        File.WriteAllText(Path.Combine(secrets.FullName, "ingest_secret"), IngestTests.IngestSecret + "\n");
        File.WriteAllText(Path.Combine(secrets.FullName, "site_secret"), vectors[0].Secret + "\n");

        var environment = new Dictionary<string, string> { ["RABBITMQ_URL"] = scenario.Rabbit.AmqpUrl.ToString() };
        foreach (var line in ReadmeSnippet.Block("pipeline-site-host", "bash", ReadmeSnippet.Integration).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = (line.Split('=', 2)[0], line.Split('=', 2)[1].Split('#')[0].Trim());
            environment[name] = name switch
            {
                "WEBHOOK_URL" => site.Url.ToString(),
                "REDIS_URL" => $"redis://{redis.Address}/0",
                _ => value.Replace("/run/secrets", secrets.FullName, StringComparison.Ordinal),
            };
        }

        await using var host = await HostProcess.StartAsync(environment);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        foreach (var vector in vectors)
        {
            using var response = await http.SendAsync(IngestTests.Post(vector.Body, vector.IdempotencyKey));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // A registration in the guide's shape that carries the metric, as a .NET producer (or the pipeline, once it posts
        // the guide's shape) sends it: the token service can take it.
        var complete = Encoding.UTF8.GetBytes("""
            {"model_id":"hokusai-msg-ai/4/msg-ai","idempotency_key":"complete-1","registered_version":"4",
             "timestamp":"2026-07-21T15:04:05.5Z","token_symbol":"MSG-AI","baseline_metrics":{"reply_rate":0.5},
             "metadata":{"model_name":"hokusai-msg-ai","mlflow_run_id":"abc124","current_value":0.6,
                         "contributor_address":"0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb0","tags":{"user_id":"user-42"}}}
            """);
        using (var response = await http.SendAsync(IngestTests.Post(complete)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // The three DeltaOne events, as the pipeline sends them to WEBHOOK_URL when DELTAONE_WEBHOOK_ENDPOINTS is unset.
        foreach (var vector in TestVectors.DeltaOne)
        {
            using var response = await http.SendAsync(DeltaOneIngestTests.Post(vector.Body, IngestTests.IngestSecret));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await site.WaitForAcceptedAsync(vectors.Count + 1 + TestVectors.DeltaOne.Count, Wait);
        foreach (var vector in TestVectors.DeltaOne)
        {
            var request = Assert.Single(site.Requests, r => r.Body.AsSpan().SequenceEqual(vector.Body));
            Assert.True(request.SignatureValid); // with the site's secret, a fresh timestamp and nonce
            Assert.Equal(DeltaOneSigner.UserAgent, request.UserAgent);
            Assert.Equal(DeltaOneEventKey.For(vector.EventType, vector.Body), request.IdempotencyKey);
        }

        foreach (var vector in vectors)
        {
            var request = Assert.Single(site.Requests, r => r.IdempotencyKey == vector.IdempotencyKey);
            Assert.Equal(vector.Body, request.Body);
            Assert.Equal(vector.Signature, request.Signature);
        }

        var sent = Encoding.UTF8.GetString(Assert.Single(site.Requests, r => r.IdempotencyKey == "complete-1").Body);
        Assert.Equal("""{"event_type":"model_registered","model":{"id":"msg-ai","name":"hokusai-msg-ai","status":"registered","version":"4","run_id":"abc124","user_id":"user-42"},"timestamp":"2026-07-21T15:04:05.500000Z","source":"mlflow"}""", sent);

        // The token service: the complete registration passes its checks; the MLflow-shape ones (no metric) are refused
        // by the host, naming the rule, and never reach its dead-letter list.
        await RabbitMqManagement.Eventually(async () => (await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error")).Count == vectors.Count,
            Wait, "the MLflow-shape registrations in hokusai-redis-fallback_error");
        var run = await LegacyMigrationTests.PythonAsync(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "token_service_consumer.py")),
            new() { ["REDIS_URL"] = $"redis://{redis.Address}/0", ["COUNT"] = "1" });
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("processed hokusai-msg-ai/4/msg-ai MSG-AI 20.00", run.Output.Trim());
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        Assert.Equal(0, await client.GetDatabase().ListLengthAsync("hokusai:model_ready_queue:dlq"));
        Assert.Equal(0, await client.GetDatabase().ListLengthAsync("hokusai:model_ready_queue"));
        foreach (var refused in await scenario.Rabbit.PeekAsync("hokusai-redis-fallback_error"))
        {
            Assert.Contains("metric_name is required by the token service", refused.Header("MT-Fault-Message"));
        }

        Assert.Empty(await scenario.ErrorsAsync());
        secrets.Delete(recursive: true);
    }
}
