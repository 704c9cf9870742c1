using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// The pipeline's DeltaOne events through <c>POST /ingest</c>, on real RabbitMQ, to Kestrel receivers that verify as the
/// pipeline's <c>verify_signature</c> does (and refuse stale timestamps and reused nonces): the known answers go out byte
/// for byte, freshly signed with the endpoint's secret and carrying a key; every bad request is refused with nothing
/// published; endpoints get exactly the event types they subscribe to.
/// </summary>
public sealed class DeltaOneIngestTests
{
    /// <summary>The pipeline's secret in the vectors, and the other one (D3), accepted as a rotation secret.</summary>
    private const string PipelineSecret = "pipe-secret";
    private const string OtherSecret = "another-secret";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    internal static readonly string AllTypes = "model_registered,deltaone.achieved,deltaone.minted,deltaone.reward_ingest_failed";

    /// <summary>A POST as the pipeline's DeltaOne sender makes it, with a fresh timestamp and nonce unless given.</summary>
    internal static HttpRequestMessage Post(
        byte[] body, string secret = PipelineSecret, DateTimeOffset? at = null, string? nonce = null, string? signature = null,
        bool withNonce = true)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        nonce ??= Guid.NewGuid().ToString();
        var request = new HttpRequestMessage(HttpMethod.Post, "ingest") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", DeltaOneSigner.UserAgent);
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signature ?? new DeltaOneSigner(secret).Sign(body, timestamp, nonce));
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Timestamp, timestamp);
        if (withNonce)
        {
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Nonce, nonce);
        }

        return request;
    }

    /// <summary>A DeltaOne body as the pipeline builds it (keys sorted, compact), for run <paramref name="runId"/>.</summary>
    internal static byte[] Event(string eventType, string runId) => Encoding.UTF8.GetBytes(
        $$"""{"attestation_hash":"0xatt-{{runId}}","baseline_run_id":"run-base","event_type":"{{eventType}}","model_id":"21","run_id":"{{runId}}"}""");

    [RabbitFact]
    public async Task The_pipelines_known_answers_reach_the_site_byte_for_byte_freshly_signed_with_their_key()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["INGEST_SECRET"] = PipelineSecret,
            ["INGEST_ROTATION_SECRETS"] = OtherSecret,
            ["WEBHOOK_EVENT_TYPES"] = AllTypes,
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        foreach (var vector in TestVectors.DeltaOne)
        {
            // The vector's own request, timestamp and all, is from the past: refused, naming the header.
            using var stale = await http.SendAsync(Post(vector.Body, vector.Secret, DateTimeOffset.FromUnixTimeSeconds(long.Parse(vector.Timestamp, System.Globalization.CultureInfo.InvariantCulture)), vector.Nonce, vector.Signature));
            Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
            Assert.Contains("X-Hokusai-Timestamp is", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var accepted = await http.SendAsync(Post(vector.Body, vector.Secret));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var answer = JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!;
            Assert.Equal(DeltaOneEventKey.For(vector.EventType, vector.Body), answer["idempotency_key"]!.GetValue<string>());
        }

        await scenario.Receiver.WaitForAcceptedAsync(TestVectors.DeltaOne.Count, Wait);
        foreach (var vector in TestVectors.DeltaOne)
        {
            var received = Assert.Single(scenario.Receiver.Requests, r => r.Body.AsSpan().SequenceEqual(vector.Body)); // byte for byte
            Assert.True(received.SignatureValid); // signed with the site's secret, a fresh timestamp and a new nonce
            Assert.NotEqual(vector.Nonce, received.Headers["x-hokusai-nonce"]);
            Assert.Equal(DeltaOneSigner.UserAgent, received.UserAgent);
            Assert.Equal(DeltaOneEventKey.For(vector.EventType, vector.Body), received.IdempotencyKey);
        }
    }

    [RabbitFact]
    public async Task Bad_deltaone_requests_are_refused_naming_why_and_nothing_is_published()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["INGEST_SECRET"] = PipelineSecret,
            ["WEBHOOK_EVENT_TYPES"] = "model_registered,deltaone.achieved",
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var body = Event("deltaone.achieved", "run-bad");
        var now = DateTimeOffset.UtcNow;
        var nonce = Guid.NewGuid().ToString();
        using var first = await http.SendAsync(Post(body, nonce: nonce));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        (HttpRequestMessage Request, HttpStatusCode Status, string Reason)[] cases =
        [
            (Post(body, at: now.AddMinutes(-6)), HttpStatusCode.Unauthorized, "X-Hokusai-Timestamp is 36"),
            (Post(body, at: now.AddMinutes(6)), HttpStatusCode.Unauthorized, "in the future"),
            (Post(body, nonce: nonce), HttpStatusCode.Conflict, "X-Hokusai-Nonce was already used"),
            (Post(body, signature: new WebhookSigner(PipelineSecret, SignatureFormat.Sha256Prefixed).Sign(body)), HttpStatusCode.Unauthorized, "does not match"),
            (Post(body, signature: new DeltaOneSigner(PipelineSecret).Sign(Event("deltaone.achieved", "run-other"), now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), nonce)), HttpStatusCode.Unauthorized, "does not match"),
            (Post(body, withNonce: false), HttpStatusCode.Unauthorized, "X-Hokusai-Nonce is missing"),
            (Post(body, secret: "not-the-secret"), HttpStatusCode.Unauthorized, "does not match"),
            (Post(Event("deltaone.minted", "run-bad")), (HttpStatusCode)422, "No endpoint subscribes to event_type 'deltaone.minted'"),
            (Post(Event("deltaone.surprise", "run-bad")), (HttpStatusCode)422, "'deltaone.surprise'"),
            (Post("""{"run_id":"run-bad","attestation_hash":"0x1"}"""u8.ToArray()), (HttpStatusCode)422, "has no event_type"),
            (IngestTests.Post(body, secret: PipelineSecret), HttpStatusCode.Unauthorized, "must be signed the DeltaOne way"),
        ];

        foreach (var (request, status, reason) in cases)
        {
            using (request)
            using (var response = await http.SendAsync(request))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(status == response.StatusCode, $"{reason}: {(int)response.StatusCode} {text}");
                Assert.Contains(reason, text, StringComparison.Ordinal);
            }
        }

        using var metrics = await http.GetAsync("metrics");
        var scraped = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"replay\"} 1", scraped);
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"event_type\"} 3", scraped);
        Assert.Equal(1, scenario.Receiver.RequestCount); // only the first
        Assert.Equal(0, (await scenario.Rabbit.QueuesAsync())[Scenario.Queue]);
    }

    [RabbitFact]
    public async Task Two_thousand_mixed_events_at_concurrency_16_reach_two_endpoints_each_exactly_its_types()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var mints = await WebhookReceiver.StartAsync("mint-service-secret");
        // The site takes registrations and mints; the pipeline's own endpoint setting adds a mint service for the rest.
        var deltaOneEndpoints = $$"""[{"url":"{{mints.Url}}","secret":"mint-service-secret","event_types":["deltaone.achieved","deltaone.reward_ingest_failed"],"description":"mints"},{"url":"https://retired.example.com/hook","secret":"x","active":false}]""";
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["INGEST_SECRET"] = PipelineSecret,
            ["WEBHOOK_EVENT_TYPES"] = "model_registered,deltaone.minted",
            ["WEBHOOK_PAYLOAD_FORMAT"] = "mlflow",
            ["DELTAONE_WEBHOOK_ENDPOINTS"] = deltaOneEndpoints,
            ["WEBHOOK_CONCURRENCY"] = "16",
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        string[] types = ["model_registered", "deltaone.achieved", "deltaone.minted", "deltaone.reward_ingest_failed"];
        var sent = new (string Type, string Key)[2000];

        await Parallel.ForAsync(0, sent.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var type = types[i % types.Length];
            var body = type == "model_registered" ? Mlflow($"mixed-{i}") : Event(type, $"run-{i}");
            using var request = type == "model_registered" ? IngestTests.Post(body, secret: PipelineSecret) : Post(body);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            sent[i] = (type, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["idempotency_key"]!.GetValue<string>());
        });

        var forSite = sent.Where(s => s.Type is "model_registered" or "deltaone.minted").Select(s => s.Key).ToHashSet();
        var forMints = sent.Where(s => s.Type is "deltaone.achieved" or "deltaone.reward_ingest_failed").Select(s => s.Key).ToHashSet();
        await scenario.Receiver.WaitForAcceptedAsync(forSite.Count, Wait);
        await mints.WaitForAcceptedAsync(forMints.Count, Wait);

        Assert.Equal(forSite.Order(), scenario.Receiver.AcceptedKeys.Order());
        Assert.Equal(forMints.Order(), mints.AcceptedKeys.Order());
        Assert.All(scenario.Receiver.Requests.Concat(mints.Requests), r => Assert.True(r.SignatureValid));
        Assert.Equal(0, (await scenario.Rabbit.QueuesAsync()).GetValueOrDefault($"{Scenario.Queue}_error"));
    }

    [RabbitFact]
    public async Task An_mlflow_event_with_keys_the_host_does_not_know_is_delivered_byte_equal_and_converted_for_the_guide_endpoint()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var site = await WebhookReceiver.StartAsync("site-secret");
        var host = await scenario.StartHostAsync(IngestTests.IngestOn(new()
        {
            ["Hokusai__Webhook__Endpoints__site__Url"] = site.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__site__Secret"] = "site-secret",
            ["Hokusai__Webhook__Endpoints__site__PayloadFormat"] = "mlflow",
        }));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        // Next month's pipeline: a key inside model, one at the top level, and a source other than mlflow.
        var body = """{"event_type":"model_registered","model":{"id":"msg-ai","name":"hokusai-msg-ai","status":"registered","version":"3","run_id":"abc123","user_id":"user-42","lineage":{"parent":"msg-ai-2","note":"caf\u00e9"}},"timestamp":"2026-07-21T15:04:05.123456Z","source":"mlflow-v2","schema_version":2}"""u8.ToArray();

        using var response = await http.SendAsync(IngestTests.Post(body, key: "83282ed2-960c-5fbd-9a04-053ffad32fc4"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await site.WaitForAcceptedAsync(1, Wait);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        var received = Assert.Single(site.Requests);
        Assert.Equal(body, received.Body);
        Assert.True(received.SignatureValid);
        Assert.Equal("83282ed2-960c-5fbd-9a04-053ffad32fc4", received.IdempotencyKey);
        var guide = JsonNode.Parse(Assert.Single(scenario.Receiver.Requests).Body)!;
        Assert.Equal("msg-ai", guide["token_symbol"]!.GetValue<string>());
        Assert.Null(guide["schema_version"]); // the guide shape has no room for it (docs/INTEGRATION.md lists what is dropped)
    }

    /// <summary>An MLflow event as the pipeline's publisher writes it, for token <paramref name="symbol"/>.</summary>
    internal static byte[] Mlflow(string symbol) => Encoding.UTF8.GetBytes(
        $$"""{"event_type":"model_registered","model":{"id":"{{symbol}}","name":"hokusai-{{symbol}}","status":"registered","version":"1","run_id":"r-{{symbol}}"},"timestamp":"2026-07-21T15:04:05Z","source":"mlflow"}""");
}
