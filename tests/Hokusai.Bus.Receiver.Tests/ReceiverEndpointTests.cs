using Hokusai.Bus.TestSupport;
using System.Net;
using System.Text;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>The endpoint over real HTTP: every answer the guide's sender can get, and when the handler runs.</summary>
public sealed class ReceiverEndpointTests
{
    [Fact]
    public async Task A_bare_hex_signature_is_processed_once_with_the_parsed_registration()
    {
        await using var host = await ReceiverHost.StartAsync();
        var sent = Deliveries.NewRegistration();
        var body = ModelRegisteredJson.Serialize(sent);

        using var response = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("success", await Deliveries.JsonValue(response, "status"));
        var handled = Assert.Single(host.Handled);
        Assert.Equal(sent.IdempotencyKey, handled.IdempotencyKey);
        Assert.Equal("model_abc123", handled.ModelId);
        Assert.Equal("TOKEN_ABC", handled.TokenSymbol);
        Assert.Equal("1", handled.RegisteredVersion);
        Assert.Equal(sent.Timestamp, handled.Timestamp);
        Assert.Equal(0.85, handled.BaselineMetrics["accuracy"]);
        Assert.Equal("run_xyz789", handled.Metadata.MlflowRunId);
    }

    [Fact]
    public async Task A_sha256_prefixed_signature_is_processed()
    {
        await using var host = await ReceiverHost.StartAsync();
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body,
            (WebhookHeaders.Signature, new WebhookSigner(ReceiverHost.Secret, SignatureFormat.Sha256Prefixed).Sign(body)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("success", await Deliveries.JsonValue(response, "status"));
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task A_duplicate_is_answered_already_processed_without_calling_the_handler()
    {
        await using var host = await ReceiverHost.StartAsync();
        var body = Deliveries.NewBody();

        using var first = await host.PostSignedAsync(body);
        using var second = await host.PostSignedAsync(body);
        using var third = await host.PostSignedAsync(body);

        Assert.Equal("success", await Deliveries.JsonValue(first, "status"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("already_processed", await Deliveries.JsonValue(second, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(third, "status"));
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task The_same_key_in_a_differently_serialized_body_is_still_a_duplicate()
    {
        // The sender re-serialized (e.g. Python's default separators): other bytes, same registration, same key.
        await using var host = await ReceiverHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        var compact = Deliveries.NewBody(key);
        var spaced = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(compact).Replace(",\"", ", \"", StringComparison.Ordinal));

        using var first = await host.PostSignedAsync(compact);
        using var second = await host.PostSignedAsync(spaced);

        Assert.Equal("success", await Deliveries.JsonValue(first, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(second, "status"));
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task A_registration_without_idempotency_key_is_deduplicated_by_its_derived_key()
    {
        await using var host = await ReceiverHost.StartAsync();
        var body = ModelRegisteredJson.Serialize(Deliveries.NewRegistration() with { IdempotencyKey = "" });

        using var first = await host.PostSignedAsync(body);
        using var second = await host.PostSignedAsync(body);

        Assert.Equal("success", await Deliveries.JsonValue(first, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(second, "status"));
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task A_missing_signature_is_401_and_the_handler_is_not_called()
    {
        await using var host = await ReceiverHost.StartAsync();

        using var response = await host.PostAsync(Deliveries.NewBody());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid signature", await Deliveries.JsonValue(response, "error"));
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_signature_made_with_another_secret_is_401()
    {
        await using var host = await ReceiverHost.StartAsync();

        using var response = await host.PostSignedAsync(Deliveries.NewBody(), secret: "not-the-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid signature", await Deliveries.JsonValue(response, "error"));
        Assert.Empty(host.Handled);
    }

    [Theory]
    [MemberData(nameof(TestVectors.MustRejectNames), MemberType = typeof(TestVectors))]
    public async Task Every_must_reject_vector_is_401(string name)
    {
        var vector = TestVectors.MustReject.Single(v => v.Name == name);
        await using var host = await ReceiverHost.StartAsync(o => o.Secret = vector.Secret);

        using var response = await host.PostAsync(vector.Body, (WebhookHeaders.Signature, vector.Signature));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Theory]
    [MemberData(nameof(TestVectors.PositiveNames), MemberType = typeof(TestVectors))]
    public async Task Every_positive_vector_passes_the_signature_check(string name)
    {
        // Bodies that are registrations are processed; the others (empty, a health probe) fail parsing, never the signature.
        var vector = TestVectors.Positive.Single(v => v.Name == name);
        await using var host = await ReceiverHost.StartAsync(o => o.Secret = vector.Secret);

        using var response = await host.PostAsync(vector.Body, (WebhookHeaders.Signature, vector.Signature));

        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest });
        Assert.Equal(response.StatusCode == HttpStatusCode.OK ? 1 : 0, host.Handled.Count);
    }

    [Fact]
    public async Task The_signature_of_a_reserialized_body_is_401_while_the_bytes_as_sent_are_accepted()
    {
        // What the guide's Node example does: verify JSON.stringify(req.body) instead of the bytes received.
        await using var host = await ReceiverHost.StartAsync();
        var pythonDefault = TestVectors.Positive.Single(v => v.Name == "seed payload, python json.dumps default separators");
        var compact = TestVectors.Positive.Single(v => v.Name == "seed payload, compact separators");
        Assert.NotEqual(pythonDefault.Body, compact.Body);

        using var reserialized = await host.PostAsync(pythonDefault.Body, (WebhookHeaders.Signature, compact.Signature));
        using var asSent = await host.PostAsync(pythonDefault.Body, (WebhookHeaders.Signature, pythonDefault.Signature));

        Assert.Equal(HttpStatusCode.Unauthorized, reserialized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asSent.StatusCode);
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task A_body_over_the_limit_with_content_length_is_413_and_not_processed()
    {
        await using var host = await ReceiverHost.StartAsync(o => o.MaxBodyBytes = 1024);
        var body = PaddedBody(2048);

        using var response = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body too large", await Deliveries.JsonValue(response, "error"));
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413_and_not_processed()
    {
        await using var host = await ReceiverHost.StartAsync(o => o.MaxBodyBytes = 1024);
        var body = PaddedBody(2048);

        // No Content-Length: the endpoint must count as it reads.
        using var response = await host.PostAsync(new StreamContent(new UnknownLengthStream(body)), Deliveries.Hokusai(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_body_exactly_at_the_limit_is_processed()
    {
        var body = PaddedBody(1500);
        await using var host = await ReceiverHost.StartAsync(o => o.MaxBodyBytes = body.Length);

        using var withLength = await host.PostSignedAsync(body);
        var chunked = PaddedBody(1500);
        using var withoutLength = await host.PostAsync(new StreamContent(new UnknownLengthStream(chunked)), Deliveries.Hokusai(chunked));

        Assert.Equal(HttpStatusCode.OK, withLength.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withoutLength.StatusCode);
        Assert.Equal(2, host.Handled.Count);
    }

    [Fact]
    public async Task A_body_that_arrives_in_two_parts_is_read_whole()
    {
        // A body the server holds in full is taken at once; one that is still arriving is read as it comes, every byte.
        await using var host = await ReceiverHost.StartAsync();
        var sent = Deliveries.NewRegistration();
        var body = ModelRegisteredJson.Serialize(sent);

        using var response = await host.PostAsync(new TwoPartContent(body), Deliveries.Hokusai(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(sent.IdempotencyKey, Assert.Single(host.Handled).IdempotencyKey);
    }

    [Fact]
    public async Task The_default_limit_is_one_mebibyte()
    {
        await using var host = await ReceiverHost.StartAsync();
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HokusaiReceiverOptions>>().Value;

        Assert.Equal(1024 * 1024, options.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromHours(24), options.IdempotencyKeyTtl);
        Assert.False(options.RequireStandardWebhooks);
    }

    [Theory]
    [InlineData("{\"model_id\": ")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("{\"model_id\":\"m\"} trailing")]
    public async Task Invalid_json_is_400(string text)
    {
        await using var host = await ReceiverHost.StartAsync();

        using var response = await host.PostSignedAsync(Encoding.UTF8.GetBytes(text));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("body is not valid JSON", await Deliveries.JsonValue(response, "error"));
        Assert.Empty(host.Handled);
    }

    [Theory]
    [InlineData("[1,2,3]", "body is not a model registration")]
    [InlineData("null", "body is not a model registration")]
    [InlineData("{\"test\": true}", "model_id is required.")]
    [InlineData("{\"model_id\":\"m\",\"registered_version\":\"1\",\"timestamp\":\"2024-01-15T10:30:00Z\"}", "token_symbol is required.")]
    [InlineData("{\"model_id\":\"m\",\"token_symbol\":\"T\",\"registered_version\":\"1\",\"timestamp\":\"yesterday\"}", "timestamp must be ISO 8601")]
    public async Task Json_that_is_not_a_registration_is_400_with_the_reason(string text, string reason)
    {
        await using var host = await ReceiverHost.StartAsync();

        using var response = await host.PostSignedAsync(Encoding.UTF8.GetBytes(text));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Deliveries.JsonValue(response, "error");
        Assert.StartsWith("body is not a model registration", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        await using var host = await ReceiverHost.StartAsync();
        var body = Encoding.UTF8.GetBytes("{\"model_id\":\"m\u00e9\",\"token_symbol\":\"T\",\"registered_version\":\"1\",\"timestamp\":\"2024-01-15T10:30:00Z\"}");
        body[14] = 0xFF; // inside the model_id string

        using var response = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_handler_failure_is_500_and_the_retry_of_the_same_delivery_is_processed()
    {
        var store = new ObservedStore(new InMemoryIdempotencyStore(TimeProvider.System));
        await using var host = await ReceiverHost.StartAsync(services: s => s.AddSingleton<IIdempotencyStore>(store));
        var failures = 1;
        host.OnHandle = (_, _) => Interlocked.Decrement(ref failures) >= 0
            ? throw new InvalidOperationException("database down")
            : Task.CompletedTask;
        var body = Deliveries.NewBody();

        var released = store.NextRelease();
        using var failed = await host.PostSignedAsync(body);
        await released; // the claim is released before the answer is written; this only documents the order
        using var retried = await host.PostSignedAsync(body);
        using var duplicate = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("handler failed", await Deliveries.JsonValue(failed, "error")); // no exception text leaks
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("success", await Deliveries.JsonValue(retried, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(duplicate, "status"));
        Assert.Equal(2, host.Handled.Count);
        Assert.Contains(host.Logs.Lines, l => l.Contains("database down", StringComparison.Ordinal)); // logged, with the exception
    }

    [Fact]
    public async Task A_duplicate_while_the_first_is_still_processing_is_409_then_already_processed()
    {
        await using var host = await ReceiverHost.StartAsync();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var proceed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.OnHandle = async (_, _) =>
        {
            entered.TrySetResult();
            await proceed.Task;
        };
        var body = Deliveries.NewBody();

        var first = host.PostSignedAsync(body);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var during = await host.PostSignedAsync(body);
        proceed.SetResult();
        using var firstResponse = await first;
        using var after = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.Conflict, during.StatusCode); // not 2xx: the sender retries it
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal("already_processed", await Deliveries.JsonValue(after, "status"));
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task When_the_sender_goes_away_mid_handler_the_key_is_released_for_its_retry()
    {
        var store = new ObservedStore(new InMemoryIdempotencyStore(TimeProvider.System));
        await using var host = await ReceiverHost.StartAsync(services: s => s.AddSingleton<IIdempotencyStore>(store));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.OnHandle = async (_, token) =>
        {
            if (host.Handled.Count == 1)
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, token); // until the request is aborted
            }
        };
        var body = Deliveries.NewBody();
        using var cancel = new CancellationTokenSource();

        var released = store.NextRelease();
        using var request = new HttpRequestMessage(HttpMethod.Post, host.Url) { Content = new ByteArrayContent(body) };
        request.Headers.Add(WebhookHeaders.Signature, new WebhookSigner(ReceiverHost.Secret).Sign(body));
        var abandoned = host.Client.SendAsync(request, cancel.Token);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await released.WaitAsync(TimeSpan.FromSeconds(10));
        using var retried = await host.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("success", await Deliveries.JsonValue(retried, "status"));
        Assert.Equal(2, host.Handled.Count);
    }

    [Fact]
    public async Task An_unavailable_store_is_503_and_the_handler_is_not_called()
    {
        var store = new ObservedStore(new InMemoryIdempotencyStore(TimeProvider.System))
        {
            FailClaim = _ => new TimeoutException("store timed out"),
        };
        await using var host = await ReceiverHost.StartAsync(services: s => s.AddSingleton<IIdempotencyStore>(store));

        using var response = await host.PostSignedAsync(Deliveries.NewBody());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_key_is_forgotten_after_the_ttl()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await ReceiverHost.StartAsync(
            o => o.IdempotencyKeyTtl = TimeSpan.FromHours(1),
            s => s.AddSingleton<TimeProvider>(time));
        var body = Deliveries.NewBody();

        using var first = await host.PostSignedAsync(body);
        time.Advance(TimeSpan.FromMinutes(59));
        using var withinTtl = await host.PostSignedAsync(body);
        time.Advance(TimeSpan.FromMinutes(2));
        using var afterTtl = await host.PostSignedAsync(body);

        Assert.Equal("success", await Deliveries.JsonValue(first, "status"));
        Assert.Equal("already_processed", await Deliveries.JsonValue(withinTtl, "status"));
        Assert.Equal("success", await Deliveries.JsonValue(afterTtl, "status"));
        Assert.Equal(2, host.Handled.Count);
    }

    [Fact]
    public async Task A_signature_made_with_a_previous_secret_verifies_during_rotation()
    {
        await using var host = await ReceiverHost.StartAsync(o =>
        {
            o.Secret = "new-secret-2026";
            o.PreviousSecrets = ["old-secret-2025", ReceiverHost.Secret];
        });

        using var current = await host.PostSignedAsync(Deliveries.NewBody(), "new-secret-2026");
        using var previous = await host.PostSignedAsync(Deliveries.NewBody(), "old-secret-2025");
        using var older = await host.PostSignedAsync(Deliveries.NewBody(), ReceiverHost.Secret);
        using var unknown = await host.PostSignedAsync(Deliveries.NewBody(), "retired-secret-2024");

        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(HttpStatusCode.OK, previous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(3, host.Handled.Count);
    }

    [Fact]
    public async Task A_second_signature_header_line_does_not_make_a_bad_signature_good()
    {
        await using var host = await ReceiverHost.StartAsync();
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body,
            (WebhookHeaders.Signature, new WebhookSigner("wrong").Sign(body)),
            (WebhookHeaders.Signature, new WebhookSigner(ReceiverHost.Secret).Sign(body)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task Only_post_is_mapped()
    {
        await using var host = await ReceiverHost.StartAsync();

        using var response = await host.Client.GetAsync(host.Url);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task No_log_line_contains_a_secret_or_a_signature()
    {
        const string previous = "previous-secret-value";
        await using var host = await ReceiverHost.StartAsync(o => o.PreviousSecrets = [previous]);
        host.OnHandle = (_, _) => throw new InvalidOperationException("boom");
        var body = Deliveries.NewBody();
        var signatures = new List<string>();

        async Task Send(byte[] b, params (string, string)[] headers)
        {
            signatures.AddRange(headers.Select(h => h.Item2));
            using var _ = await host.PostAsync(b, headers);
        }

        await Send(body, Deliveries.Hokusai(body));                                  // 500
        await Send(body, Deliveries.Hokusai(body, "wrong-secret"));                  // 401
        await Send(body, [Deliveries.Hokusai(body), .. Deliveries.Standard(body, DateTimeOffset.UtcNow.AddHours(-1), "msg_1", "wrong")]);
        await Send(Encoding.UTF8.GetBytes("{}"), Deliveries.Hokusai(Encoding.UTF8.GetBytes("{}"))); // 400

        Assert.NotEmpty(host.Logs.Lines);
        foreach (var line in host.Logs.Lines)
        {
            Assert.DoesNotContain(ReceiverHost.Secret, line, StringComparison.Ordinal);
            Assert.DoesNotContain(previous, line, StringComparison.Ordinal);
            foreach (var signature in signatures.Where(s => s.Length >= 32))
            {
                Assert.DoesNotContain(signature, line, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>A registration whose metadata pads the body to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PaddedBody(int size)
    {
        var registration = Deliveries.NewRegistration();
        var bare = ModelRegisteredJson.Serialize(registration with { Metadata = registration.Metadata with { ExperimentName = "" } });
        var padded = ModelRegisteredJson.Serialize(registration with
        {
            Metadata = registration.Metadata with { ExperimentName = new string('x', size - bare.Length) },
        });
        Assert.Equal(size, padded.Length);
        return padded;
    }

    /// <summary>A body with its <c>Content-Length</c>, sent as its first half and, a moment later, the rest.</summary>
    private sealed class TwoPartContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            await Task.Delay(200); // the sender's pause between the two parts: the behaviour under test, not a wait for an event
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    /// <summary>A stream that does not say its length, so HttpClient sends the body chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
