using System.Collections.Concurrent;
using System.Net;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>
/// Every shape the host delivers, as it sends it: the guide's registration, the pipeline's MLflow event
/// (<c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c>: the known answers' exact bytes and headers) and the DeltaOne events (their exact
/// bytes, signed per attempt with a fresh timestamp and nonce by the host's own <see cref="DeltaOneSigner"/>).
/// <c>MapHokusaiWebhook</c> takes registrations (the MLflow event only when asked to); <c>MapHokusaiWebhookEvents</c>
/// takes all of them.
/// </summary>
public sealed class EventShapesTests
{
    private const string RegistrationsPath = "/registrations";
    private const string EventsPath = "/events";
    private const string Secret = "pipe-secret";

    [Fact]
    public async Task MapHokusaiWebhook_refuses_the_MLflow_event_saying_how_to_take_it_and_takes_it_with_AcceptMlflowEvent()
    {
        var vector = TestVectors.Mlflow[0];
        await using var plain = await Receivers.StartAsync(vector.Secret, acceptMlflow: false);
        await using var accepting = await Receivers.StartAsync(vector.Secret, acceptMlflow: true);

        using var refused = await plain.PostAsync(RegistrationsPath, vector.Body, vector.Headers);
        using var taken = await accepting.PostAsync(RegistrationsPath, vector.Body, vector.Headers);
        using var again = await accepting.PostAsync(RegistrationsPath, vector.Body, vector.Headers);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(
            "body is the pipeline's MLflow event (event_type model_registered), not the guide's registration: set AcceptMlflowEvent, "
            + "or map the endpoint with MapHokusaiWebhookEvents.",
            await Deliveries.JsonValue(refused, "error"));
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        Assert.Equal("already_processed", await Deliveries.JsonValue(again, "status"));
        var registration = Assert.Single(accepting.Registrations);
        Assert.Equal("msg-ai", registration.ModelId);
        Assert.Equal("msg-ai", registration.TokenSymbol);
        Assert.Equal("3", registration.RegisteredVersion);
        Assert.Equal("hokusai-msg-ai", registration.Metadata.ModelName);
    }

    [Fact]
    public async Task MapHokusaiWebhookEvents_takes_the_guides_registration_every_MLflow_event_and_every_DeltaOne_event_once_each()
    {
        await using var receiver = await Receivers.StartAsync(Secret, acceptMlflow: false);
        var seed = TestVectors.SeedFile();

        using (var guide = await receiver.PostAsync(EventsPath, seed, new Dictionary<string, string>
               {
                   [WebhookHeaders.Signature] = new WebhookSigner(Secret).Sign(seed),
               }))
        {
            Assert.Equal(HttpStatusCode.OK, guide.StatusCode);
        }

        // The MLflow event has no key in its body (only in the unsigned X-Hokusai-Idempotency-Key header): it is
        // de-duplicated by the key derived from its signed fields, so KAT3, the same model.id, run_id and version as KAT1
        // with other metadata, is the same registration.
        var answers = new List<string?>();
        foreach (var vector in TestVectors.Mlflow)
        {
            // The vectors' secret is another: re-sign the exact bytes as the host does for its endpoint, sha256=<hex>.
            var headers = new Dictionary<string, string>(vector.Headers)
            {
                [WebhookHeaders.Signature] = new WebhookSigner(Secret, SignatureFormat.Sha256Prefixed).Sign(vector.Body),
            };
            using var response = await receiver.PostAsync(EventsPath, vector.Body, headers);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{vector.Name}: {await response.Content.ReadAsStringAsync()}");
            answers.Add(await Deliveries.JsonValue(response, "status"));
        }

        Assert.Equal(["success", "success", "already_processed"], answers);
        foreach (var vector in TestVectors.DeltaOne)
        {
            // The host signs with the endpoint's secret, whichever secret the pipeline signed with.
            using var response = await receiver.PostAsync(EventsPath, vector.Body, DeltaOneHeaders(vector.Body, Secret));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{vector.Name}: {await response.Content.ReadAsStringAsync()}");
            using var retry = await receiver.PostAsync(EventsPath, vector.Body, DeltaOneHeaders(vector.Body, Secret));
            Assert.Equal("already_processed", await Deliveries.JsonValue(retry, "status")); // the host's next attempt
        }

        var events = receiver.Events.ToList();
        Assert.Equal(1 + 2 + TestVectors.DeltaOne.Count, events.Count);
        Assert.Equal(PipelineEventShape.Guide, events[0].Shape);
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", events[0].IdempotencyKey);
        Assert.Equal("model_abc123", events[0].ToRegistration().ModelId);
        foreach (var (vector, received) in TestVectors.Mlflow.Take(2).Zip(events.Skip(1)))
        {
            Assert.Equal(PipelineEventShape.Mlflow, received.Shape);
            Assert.Equal(MlflowEvent.ModelRegisteredType, received.EventType);
            Assert.Equal(vector.Body, received.Body);
            Assert.Equal("msg-ai", received.ModelId);
            Assert.Equal(IdempotencyKey.Derive("msg-ai", "msg-ai", vector.Name == "KAT1" ? "abc123" : null, "3"), received.IdempotencyKey);
        }

        foreach (var (vector, received) in TestVectors.DeltaOne.Zip(events.Skip(1 + 2)))
        {
            Assert.Equal(PipelineEventShape.DeltaOne, received.Shape);
            Assert.Equal(vector.EventType, received.EventType);
            Assert.Equal(vector.Body, received.Body);
            Assert.Equal(DeltaOneEventKey.For(vector.EventType, vector.Body), received.IdempotencyKey); // the host's key
        }
    }

    [Fact]
    public async Task A_DeltaOne_event_is_refused_without_its_timestamp_and_nonce_with_a_reused_nonce_and_by_MapHokusaiWebhook()
    {
        var vector = TestVectors.DeltaOne[0];
        await using var receiver = await Receivers.StartAsync(vector.Secret, acceptMlflow: true);
        var fresh = DeltaOneHeaders(vector.Body, vector.Secret);

        using var plainSignature = await receiver.PostAsync(EventsPath, vector.Body, new Dictionary<string, string>
        {
            [WebhookHeaders.Signature] = new WebhookSigner(vector.Secret, SignatureFormat.Sha256Prefixed).Sign(vector.Body),
        });
        using var asRegistration = await receiver.PostAsync(RegistrationsPath, vector.Body, fresh);
        using var first = await receiver.PostAsync(EventsPath, vector.Body, DeltaOneHeaders(vector.Body, vector.Secret));
        using var replayed = await receiver.PostAsync(EventsPath, vector.Body, fresh); // its nonce was used above

        Assert.Equal(HttpStatusCode.Unauthorized, plainSignature.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, asRegistration.StatusCode);
        Assert.Equal(
            "body is a deltaone.achieved event, not a model registration: map the endpoint with MapHokusaiWebhookEvents to receive DeltaOne events.",
            await Deliveries.JsonValue(asRegistration, "error"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, replayed.StatusCode); // as on /ingest: a nonce is accepted once
        Assert.Single(receiver.Events);
        Assert.Empty(receiver.Registrations);
    }

    [Theory]
    [InlineData("""{"event_type":"model_deleted","model":{"id":"a"}}""", "body is not a model registration: event_type 'model_deleted' is neither 'model_registered' nor a 'deltaone.*' type.")]
    [InlineData("""{"event_type":7}""", "body is not a model registration: event_type must be a string.")]
    [InlineData("""{"event_type":"model_registered","model":{"id":"a","name":"n","status":"registered"},"timestamp":"2026-07-21T15:04:05Z","source":"mlflow"}""", "body is not an MLflow event: model.version is required.")]
    [InlineData("""{"event_type":"model_registered",""", "body is not valid JSON")]
    public async Task Another_event_type_or_a_broken_event_is_refused_400_naming_the_field(string json, string reason)
    {
        const string secret = "shape-secret";
        await using var receiver = await Receivers.StartAsync(secret, acceptMlflow: true);
        var body = System.Text.Encoding.UTF8.GetBytes(json);

        using var response = await receiver.PostAsync(EventsPath, body, new Dictionary<string, string>
        {
            [WebhookHeaders.Signature] = new WebhookSigner(secret).Sign(body),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(reason, await Deliveries.JsonValue(response, "error"));
        Assert.Empty(receiver.Events);
    }

    /// <summary>What the host sends with a DeltaOne event at each attempt: its signature over a fresh timestamp and nonce.</summary>
    private static Dictionary<string, string> DeltaOneHeaders(byte[] body, string secret)
    {
        var (timestamp, nonce) = DeltaOneSigner.NewAttempt(DateTimeOffset.UtcNow);
        return new Dictionary<string, string>
        {
            ["User-Agent"] = DeltaOneSigner.UserAgent,
            [WebhookHeaders.Signature] = new DeltaOneSigner(secret).Sign(body, timestamp, nonce),
            [WebhookHeaders.Timestamp] = timestamp,
            [WebhookHeaders.Nonce] = nonce,
        };
    }

    /// <summary>One receiver with the three mappings, recording what each handler was called with.</summary>
    private sealed class Receivers : IAsyncDisposable
    {
        private readonly LoopbackServer _server;
        private readonly HttpClient _http = new();

        private Receivers(LoopbackServer server, ConcurrentQueue<ModelRegistered> registrations, ConcurrentQueue<PipelineEvent> events)
        {
            _server = server;
            Registrations = registrations;
            Events = events;
        }

        public ConcurrentQueue<ModelRegistered> Registrations { get; }

        public ConcurrentQueue<PipelineEvent> Events { get; }

        public static async Task<Receivers> StartAsync(string secret, bool acceptMlflow)
        {
            var registrations = new ConcurrentQueue<ModelRegistered>();
            var events = new ConcurrentQueue<PipelineEvent>();
            var server = await LoopbackServer.StartAsync(
                app =>
                {
                    app.MapHokusaiWebhook(RegistrationsPath, (registration, _, _) =>
                    {
                        registrations.Enqueue(registration);
                        return Task.CompletedTask;
                    });
                    app.MapHokusaiWebhookEvents(EventsPath, (received, _, _) =>
                    {
                        events.Enqueue(received);
                        return Task.CompletedTask;
                    });
                },
                builder => builder.Services.AddHokusaiWebhookReceiver(o =>
                {
                    o.Secret = secret;
                    o.AcceptMlflowEvent = acceptMlflow;
                }));
            return new Receivers(server, registrations, events);
        }

        public async Task<HttpResponseMessage> PostAsync(string path, byte[] body, IReadOnlyDictionary<string, string> headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _server.At(path)) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            foreach (var (name, value) in headers.Where(h => !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            return await _http.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _server.DisposeAsync();
        }
    }
}
