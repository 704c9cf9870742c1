using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// <c>POST /ingest</c> on the host as a process, on real RabbitMQ, delivering to Kestrel receivers: the pipeline's own
/// requests (the MLflow-event vectors) go through unchanged, and every bad request is refused with nothing published.
/// </summary>
public sealed class IngestTests
{
    public const string IngestSecret = "ingest-secret-never-logged";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A POST as the pipeline's publisher makes it: the body, signed <c>sha256=</c> with the ingest secret.</summary>
    internal static HttpRequestMessage Post(byte[] body, string? key = null, string secret = IngestSecret, string? signature = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "ingest") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", MlflowEvent.UserAgent);
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature,
            signature ?? new WebhookSigner(secret, SignatureFormat.Sha256Prefixed).Sign(body));
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, key);
        }

        return request;
    }

    internal static Dictionary<string, string> IngestOn(Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string> { ["INGEST_SECRET"] = IngestSecret };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }

        return settings;
    }

    [RabbitFact]
    public async Task The_pipelines_own_posts_reach_the_site_byte_for_byte_with_their_key_and_the_guide_endpoint_in_the_guides_shape()
    {
        await using var scenario = await Scenario.StartAsync();
        var vectors = TestVectors.Mlflow;
        await using var site = await WebhookReceiver.StartAsync(vectors[0].Secret);
        var host = await scenario.StartHostAsync(IngestOn(new()
        {
            ["Hokusai__Webhook__Endpoints__site__Url"] = site.Url.ToString(),
            ["Hokusai__Webhook__Endpoints__site__Secret"] = vectors[0].Secret,
            ["Hokusai__Webhook__Endpoints__site__PayloadFormat"] = "mlflow",
        }));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        foreach (var vector in vectors)
        {
            using var response = await http.SendAsync(Post(vector.Body, vector.IdempotencyKey));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var answer = await response.Content.ReadAsByteArrayAsync();
            Assert.Contains(vector.IdempotencyKey, Encoding.UTF8.GetString(answer));
            Assert.Equal(answer.Length, response.Content.Headers.ContentLength); // one write with its length, not chunked
            Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        }

        await site.WaitForAcceptedAsync(vectors.Count, Wait);
        await scenario.Receiver.WaitForAcceptedAsync(vectors.Count, Wait);
        foreach (var vector in vectors)
        {
            var request = Assert.Single(site.Requests, r => r.IdempotencyKey == vector.IdempotencyKey);
            Assert.Equal(Encoding.UTF8.GetString(vector.Body), Encoding.UTF8.GetString(request.Body));
            Assert.Equal(vector.Signature, request.Signature); // the same secret: the same signature as the pipeline's
            Assert.Equal(MlflowEvent.UserAgent, request.UserAgent);

            var guide = Assert.Single(scenario.Receiver.Requests, r => r.IdempotencyKey == vector.IdempotencyKey);
            var registration = ModelRegisteredJson.Deserialize(guide.Body);
            Assert.Equal(vector.IdempotencyKey, registration.IdempotencyKey); // the header's key, now in the guide's body
            Assert.True(guide.SignatureValid);
        }

        Assert.Empty(await scenario.ErrorsAsync());
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains("ingest_accepted_total{otel_scope_name=\"Hokusai.Bus\",shape=\"mlflow\"} 3", metrics);
        Assert.Contains("ingest_confirm_duration_seconds_bucket{otel_scope_name=\"Hokusai.Bus\",shape=\"mlflow\",le=\"0.005\"}", metrics);
        Assert.DoesNotContain(IngestSecret, host.Output);
    }

    [RabbitFact]
    public async Task Bad_requests_are_refused_with_the_reason_and_nothing_is_published()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn(new() { ["INGEST_MAX_BODY_BYTES"] = "4096" }));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var good = Encoding.UTF8.GetBytes(Payloads.Registration("good-key"));

        async Task Refused(HttpRequestMessage request, HttpStatusCode status, string reason)
        {
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{response.StatusCode}: {text}");
            Assert.Contains(reason, text, StringComparison.Ordinal);
        }

        var unsigned = Post(good);
        unsigned.Headers.Remove(WebhookHeaders.Signature);
        await Refused(unsigned, HttpStatusCode.Unauthorized, "X-Hokusai-Signature is missing");
        await Refused(Post(good, secret: "another-secret"), HttpStatusCode.Unauthorized, "does not match");
        await Refused(Post(good, signature: new WebhookSigner(IngestSecret).Sign(Encoding.UTF8.GetBytes(Payloads.Registration("other")))),
            HttpStatusCode.Unauthorized, "does not match"); // a valid signature, over other bytes
        await Refused(Post(good, signature: "abc"), HttpStatusCode.Unauthorized, "does not match");
        await Refused(Post("not json at all"u8.ToArray()), HttpStatusCode.BadRequest, "The body is not valid JSON");
        await Refused(Post("[1,2]"u8.ToArray()), HttpStatusCode.BadRequest, "The body must be a JSON object");
        // A deltaone event as the pipeline sends it when DELTAONE_WEBHOOK_ENDPOINTS is unset: signed over
        // "<timestamp>.<nonce>.<body>" (keys sorted), with its two extra headers.
        var deltaone = """{"event_type":"deltaone.achieved","model_id":"m","run_id":"r"}"""u8.ToArray();
        var signed = Post(deltaone, signature: new WebhookSigner(IngestSecret).Sign(Encoding.UTF8.GetBytes("1765000000.n0nce." + Encoding.UTF8.GetString(deltaone))));
        signed.Headers.TryAddWithoutValidation("X-Hokusai-Timestamp", "1765000000");
        signed.Headers.TryAddWithoutValidation("X-Hokusai-Nonce", "n0nce");
        await Refused(signed, HttpStatusCode.Unauthorized, "X-Hokusai-Timestamp is "); // from 2025: stale (DeltaOneIngestTests has the rest)
        await Refused(Post(Encoding.UTF8.GetBytes(Payloads.Registration("k-1").Replace("\"timestamp\": \"2024-01-15T10:30:00Z\"", "\"timestamp\": \"01/02/2024\"", StringComparison.Ordinal))),
            HttpStatusCode.BadRequest, "timestamp must be ISO 8601");
        await Refused(Post(Encoding.UTF8.GetBytes(Payloads.Registration("k-2").Replace("\"token_symbol\": \"TOKEN_ABC\",", "", StringComparison.Ordinal))),
            HttpStatusCode.BadRequest, "token_symbol is required.");
        await Refused(Post("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":[3]},"timestamp":"2026-07-21T15:04:05Z","source":"mlflow"}"""u8.ToArray()),
            HttpStatusCode.BadRequest, "model.version has the wrong JSON type");
        // The pipeline always writes strings: a number is refused naming the field, never delivered as its text.
        await Refused(Post("""{"event_type":"model_registered","model":{"id":"a","name":"n","status":"registered","version":3},"timestamp":"2026-07-21T15:04:05Z","source":"mlflow"}"""u8.ToArray()),
            HttpStatusCode.BadRequest, "model.version has the wrong JSON type: it must be a string, not number.");
        await Refused(Post("""{"event_type":"model_registered","model":{"id":"a","name":"n","status":"registered","version":3.5},"timestamp":"2026-07-21T15:04:05Z","source":"mlflow"}"""u8.ToArray()),
            HttpStatusCode.BadRequest, "model.version has the wrong JSON type: it must be a string, not number.");
        await Refused(Post(Encoding.UTF8.GetBytes(Payloads.Registration("bad\\u0007key"))), HttpStatusCode.BadRequest, "idempotency_key must be printable ASCII");
        await Refused(Post("""{"event_type":"deltaone.achieved","model_id":"m","delta":1}"""u8.ToArray()),
            HttpStatusCode.Unauthorized, "must be signed the DeltaOne way, with X-Hokusai-Timestamp and X-Hokusai-Nonce");
        await Refused(Post("""{"hello":"world"}"""u8.ToArray()), (HttpStatusCode)422, "has no event_type, and it is not a model registration");
        await Refused(Post(Encoding.UTF8.GetBytes(Pad(Payloads.Registration("too-big"), 4097))), HttpStatusCode.RequestEntityTooLarge,
            "the limit is 4096 (INGEST_MAX_BODY_BYTES)");

        var chunked = Post(Encoding.UTF8.GetBytes(Pad(Payloads.Registration("too-big-chunked"), 5000)));
        chunked.Headers.TransferEncodingChunked = true; // no Content-Length: the limit is found while reading
        await Refused(chunked, HttpStatusCode.RequestEntityTooLarge, "over the limit of 4096 bytes (INGEST_MAX_BODY_BYTES)");

        // At the limit exactly: accepted.
        using (var atLimit = await http.SendAsync(Post(Encoding.UTF8.GetBytes(Pad(Payloads.Registration("at-limit"), 4096)))))
        {
            Assert.Equal(HttpStatusCode.Accepted, atLimit.StatusCode);
        }

        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Equal(["at-limit"], scenario.Receiver.AcceptedKeys);
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"signature\"} 6", metrics);
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"field\"} 8", metrics);
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"event_type\"} 1", metrics);
        Assert.Contains("ingest_refused_total{otel_scope_name=\"Hokusai.Bus\",reason=\"size\"} 2", metrics);
        Assert.Contains("Refused a POST to /ingest with 401 (signature): X-Hokusai-Signature is missing", host.Output);
        Assert.DoesNotContain("\u0007", host.Output, StringComparison.Ordinal); // a control character from a request never reaches a log line
        Assert.Equal(0, (await scenario.Rabbit.QueuesAsync())[Scenario.Queue]);
    }

    [RabbitFact]
    public async Task A_body_that_trickles_in_is_cut_off_and_the_host_keeps_serving()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn(new() { ["INGEST_BODY_TIMEOUT"] = "3" }));
        var body = Encoding.UTF8.GetBytes(Payloads.Registration("trickled"));
        var signature = new WebhookSigner(IngestSecret, SignatureFormat.Sha256Prefixed).Sign(body);

        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, host.Port);
        var stream = socket.GetStream();
        var head = $"POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n"
                   + $"X-Hokusai-Signature: {signature}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var started = DateTime.UtcNow;
        var answer = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        });
        // One byte a second: far too slow; never the whole body.
        for (var i = 0; i < body.Length - 1 && !reading.IsCompleted; i++)
        {
            try
            {
                await stream.WriteAsync(body.AsMemory(i, 1));
            }
            catch (IOException)
            {
                break; // the host closed the connection
            }

            await Task.WhenAny(reading, Task.Delay(1000));
        }

        await reading.WaitAsync(Wait);
        Assert.StartsWith("HTTP/1.1 408", answer.ToString());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "cut off within the body timeout (3 s), not Kestrel's own");

        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        using var next = await http.SendAsync(Post(body));
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Equal(1, scenario.Receiver.RequestCount);
    }

    [RabbitFact]
    public async Task A_replayed_body_is_published_again_with_the_same_key_and_bytes()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn());
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var vector = TestVectors.Mlflow[0];

        for (var i = 0; i < 2; i++)
        {
            using var response = await http.SendAsync(Post(vector.Body, vector.IdempotencyKey));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await scenario.Receiver.WaitForRequestsAsync(2, Wait);
        Assert.Equal(2, scenario.Receiver.AcceptedCounts[vector.IdempotencyKey]); // the receiver de-duplicates by the key
        Assert.Single(scenario.Receiver.Requests.Select(r => Convert.ToHexString(r.Body)).Distinct());
    }

    [RabbitFact]
    public async Task What_ingest_publishes_is_the_body_as_received_with_the_event_in_properties_and_earlier_forms_are_delivered()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn());
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        // A queue of our own on the events' exchange, to look at what the host published as ops would in the UI.
        await using var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = scenario.Rabbit.AmqpUrl }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("look", durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("look", EventsExchange, "");
        var vector = TestVectors.Mlflow[0];

        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var response = await http.SendAsync(Post(vector.Body, vector.IdempotencyKey)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var published = await channel.BasicGetAsync("look", autoAck: true) ?? throw new Xunit.Sdk.XunitException("nothing published");
        Assert.Equal(vector.Body, published.Body.ToArray()); // the bytes received, readable as they are: no envelope, no base64
        var properties = published.BasicProperties;
        Assert.Equal("application/vnd.hokusai.pipeline-event+json; shape=mlflow", properties.ContentType);
        Assert.True(properties.Persistent);
        Assert.Equal(vector.IdempotencyKey, properties.MessageId);
        Assert.Equal(MlflowEvent.ModelRegisteredType, properties.Type);
        Assert.InRange(properties.Timestamp.UnixTime, before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.DoesNotContain(properties.Headers?.Keys ?? [], name => name.StartsWith("Hokusai-", StringComparison.Ordinal));
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        // What older hosts published, still in a queue after an upgrade: the event in MassTransit's envelope, and the
        // event in Hokusai-* headers.
        var older = Encoding.UTF8.GetBytes(Payloads.Registration("from-an-older-host"));
        await scenario.Rabbit.PublishAsync(EventsExchange, $$$"""
            {"messageId":"{{{Guid.NewGuid()}}}","messageType":["urn:message:Hokusai.Bus.Contracts:PipelineEvent"],
             "message":{"eventType":"model_registered","shape":0,"body":"{{{Convert.ToBase64String(older)}}}",
                        "modelId":"model_abc123","receivedAt":"2026-12-01T10:00:00+00:00","idempotencyKey":"from-an-older-host"}}
            """, "application/vnd.masstransit+json");
        var inHeaders = Encoding.UTF8.GetBytes(Payloads.Registration("in-headers"));
        await scenario.Rabbit.PublishAsync(EventsExchange, Encoding.UTF8.GetString(inHeaders), "application/vnd.hokusai.pipeline-event+json",
            new Dictionary<string, string>
            {
                ["Hokusai-Event-Type"] = "model_registered", ["Hokusai-Event-Shape"] = "guide", ["Hokusai-Idempotency-Key"] = "in-headers",
                ["Hokusai-Model-Id"] = "model_abc123", ["Hokusai-Received-At"] = "2026-12-01T10:00:00.0000000+00:00",
            });
        await scenario.Receiver.WaitForAcceptedAsync(3, Wait);
        Assert.Equal(older, Assert.Single(scenario.Receiver.Requests, r => r.IdempotencyKey == "from-an-older-host").Body);
        Assert.Equal(inHeaders, Assert.Single(scenario.Receiver.Requests, r => r.IdempotencyKey == "in-headers").Body);

        // A bare event missing a property is not guessed at: it goes to _error, the reason naming the property.
        await channel.BasicPublishAsync(EventsExchange, "", false, new RabbitMQ.Client.BasicProperties
        {
            ContentType = "application/vnd.hokusai.pipeline-event+json", MessageId = "no-shape", Type = "model_registered",
            Timestamp = new RabbitMQ.Client.AmqpTimestamp(before),
        }, Encoding.UTF8.GetBytes(Payloads.Registration("no-shape")));
        await RabbitMqManagement.Eventually(async () => (await scenario.ErrorsAsync()).Count == 1, Wait, "the bare event in _error");
        Assert.Contains("no shape parameter in its content type", Assert.Single(await scenario.ErrorsAsync()).Header("MT-Fault-Message"));
        Assert.DoesNotContain(scenario.Receiver.Requests, r => r.IdempotencyKey == "no-shape");
    }

    [RabbitFact]
    public async Task An_event_no_queue_would_take_is_a_503_to_retry_not_a_202_for_nothing()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn());
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        await using var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = scenario.Rabbit.AmqpUrl }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var vector = TestVectors.Mlflow[0];

        // The endpoint's binding removed by hand: nothing would store the event.
        await channel.ExchangeUnbindAsync(Scenario.Queue, EventsExchange, "");
        using (var refused = await http.SendAsync(Post(vector.Body, vector.IdempotencyKey)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Contains("RabbitMQ has no queue for this event", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Bound again, the pipeline's retry is accepted and delivered.
        await channel.ExchangeBindAsync(Scenario.Queue, EventsExchange, "");
        using (var accepted = await http.SendAsync(Post(vector.Body, vector.IdempotencyKey)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Single(scenario.Receiver.Requests, r => r.IdempotencyKey == vector.IdempotencyKey);
    }

    private const string EventsExchange = "Hokusai.Bus.Contracts:PipelineEvent";

    [RabbitFact]
    public async Task A_rotation_secret_is_accepted_while_the_pipeline_moves_to_the_new_one()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestOn(new() { ["INGEST_ROTATION_SECRETS"] = "the-old-ingest-secret" }));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var body = Encoding.UTF8.GetBytes(Payloads.Registration("rotated"));

        using var old = await http.SendAsync(Post(body, secret: "the-old-ingest-secret"));
        using var current = await http.SendAsync(Post(body));
        using var other = await http.SendAsync(Post(body, secret: "not-a-secret-of-ours"));

        Assert.Equal(HttpStatusCode.Accepted, old.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, current.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        Assert.DoesNotContain("the-old-ingest-secret", host.Output, StringComparison.Ordinal);
    }

    [RabbitFact]
    public async Task Without_an_ingest_secret_the_path_does_not_exist()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        using var response = await http.SendAsync(Post(TestVectors.Mlflow[0].Body));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>The registration with a metadata key padded so the whole body is exactly <paramref name="length"/> bytes.</summary>
    private static string Pad(string registration, int length)
    {
        var compact = registration.Replace("\n", "", StringComparison.Ordinal);
        var withPad = compact.Replace("\"metadata\": {", "\"metadata\": {\"pad\": \"\", ", StringComparison.Ordinal);
        var missing = length - Encoding.UTF8.GetByteCount(withPad);
        return withPad.Replace("\"pad\": \"\"", "\"pad\": \"" + new string('x', missing) + "\"", StringComparison.Ordinal);
    }
}
