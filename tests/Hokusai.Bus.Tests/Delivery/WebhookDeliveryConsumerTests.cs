using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>The delivery consumer in the in-memory harness, POSTing to a real Kestrel receiver on loopback.</summary>
public sealed class WebhookDeliveryConsumerTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync(Harness.Secret);

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Delivers_the_contract_body_signed_with_the_guides_headers()
    {
        await using var harness = await Harness.StartAsync(_receiver.Url);
        var registration = Harness.Registration();

        await harness.Test.Bus.Publish(registration);
        await _receiver.WaitForAcceptedAsync(1, Wait);

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal(ModelRegisteredJson.Serialize(registration), request.Body);
        Assert.True(request.SignatureValid);
        Assert.Equal(new WebhookSigner(Harness.Secret).Sign(request.Body), request.Signature);
        Assert.Equal(registration.IdempotencyKey, request.IdempotencyKey);
        Assert.Equal("application/json", request.ContentType);
        Assert.StartsWith("Hokusai.Bus/", request.UserAgent);
        Assert.True(await harness.Test.Consumed.Any<ModelRegistered>());
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task Standard_webhooks_headers_are_signed_with_every_secret_when_turned_on()
    {
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.StandardSignatures = true;
            o.RotationSecrets = ["next-secret"];
        });
        var registration = Harness.Registration();

        await harness.Test.Bus.Publish(registration);
        await _receiver.WaitForAcceptedAsync(1, Wait);

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal(registration.IdempotencyKey, request.Headers["webhook-id"]);
        Assert.Equal(2, request.Headers["webhook-signature"].Split(' ').Length);
        string? Header(string name) => request.Headers.GetValueOrDefault(name);
        Assert.True(new StandardWebhookVerifier(Harness.Secret).Verify(request.Body, Header));
        Assert.True(new StandardWebhookVerifier("next-secret").Verify(request.Body, Header));
        Assert.False(new StandardWebhookVerifier("another-secret").Verify(request.Body, Header));
        Assert.True(request.SignatureValid); // the guide's header is sent as before
    }

    [Fact]
    public async Task Without_the_setting_no_standard_webhooks_headers_are_sent()
    {
        await using var harness = await Harness.StartAsync(_receiver.Url);

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForAcceptedAsync(1, Wait);

        Assert.DoesNotContain("webhook-signature", Assert.Single(_receiver.Requests).Headers.Keys);
    }

    [Fact]
    public async Task A_registration_without_a_key_is_delivered_with_the_derived_key_in_body_and_header()
    {
        await using var harness = await Harness.StartAsync(_receiver.Url);
        var registration = Harness.Registration() with { IdempotencyKey = "" };

        await harness.Test.Bus.Publish(registration);
        await _receiver.WaitForAcceptedAsync(1, Wait);

        var request = Assert.Single(_receiver.Requests);
        var expected = IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "1");
        Assert.Equal(expected, request.IdempotencyKey);
        Assert.Equal(expected, ModelRegisteredJson.Deserialize(request.Body).IdempotencyKey);
    }

    [Fact]
    public async Task Failed_attempts_are_retried_with_identical_body_signature_and_key_until_success()
    {
        _receiver.Respond = info => ValueTask.FromResult(
            info.Number <= 2 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        await using var harness = await Harness.StartAsync(_receiver.Url);

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForAcceptedAsync(1, Wait);

        var requests = _receiver.Requests.ToArray();
        Assert.Equal([500, 500, 200], requests.Select(r => r.StatusReturned));
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.All(requests, r => Assert.Equal(requests[0].Signature, r.Signature));
        Assert.All(requests, r => Assert.Equal(requests[0].IdempotencyKey, r.IdempotencyKey));
        Assert.All(requests, r => Assert.True(r.SignatureValid));
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task After_the_last_retry_the_message_faults_with_the_status_as_reason()
    {
        var key = Guid.NewGuid().ToString();
        await using var harness = await Harness.StartAsync(_receiver.Url, o => o.MaxRetries = 2);
        _receiver.Respond = harness.RefuseWhileAcceptingOthers(key, lastAttempt: 3, new WebhookReceiver.Response(503));

        await harness.Test.Bus.Publish(Harness.Registration(key: key));

        var fault = await harness.FaultAsync();
        Assert.Equal(3, _receiver.Requests.Count(r => r.IdempotencyKey == key));
        var exception = Assert.Single(fault.Exceptions);
        Assert.Equal(typeof(WebhookDeliveryException).FullName, exception.ExceptionType);
        Assert.Contains("3 attempt(s)", exception.Message);
        Assert.Contains("HTTP 503", exception.Message);
        Assert.DoesNotContain(Harness.Secret, exception.Message + exception.StackTrace);
    }

    [Fact]
    public async Task A_receiver_slower_than_WEBHOOK_TIMEOUT_is_a_failed_attempt_and_is_retried()
    {
        _receiver.Respond = info => ValueTask.FromResult(info.Number == 1
            ? new WebhookReceiver.Response(200, TimeSpan.FromSeconds(10))
            : WebhookReceiver.Response.Ok);
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.Timeout = TimeSpan.FromMilliseconds(300);
            o.MaxRetries = 1;
        });

        await harness.Test.Bus.Publish(Harness.Registration());

        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Equal(2, _receiver.RequestCount);
        Assert.True(await harness.Test.Consumed.Any<ModelRegistered>());
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task An_invalid_registration_faults_naming_the_field_without_any_request()
    {
        await using var harness = await Harness.StartAsync(_receiver.Url);

        await harness.Test.Bus.Publish(Harness.Registration() with { TokenSymbol = "" });

        var fault = await harness.FaultAsync();
        Assert.Contains("token_symbol is required", fault.Exceptions[0].Message);
        Assert.Equal(0, _receiver.RequestCount);
    }

    [Fact]
    public async Task Other_messages_are_delivered_while_one_waits_for_its_retry()
    {
        var slowKey = Guid.NewGuid().ToString();
        _receiver.Respond = info => ValueTask.FromResult(
            info.IdempotencyKey == slowKey && info.Number == 1 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        await using var harness = await Harness.StartAsync(_receiver.Url, o => o.RetryDelay = TimeSpan.FromSeconds(3));

        await harness.Test.Bus.Publish(Harness.Registration(key: slowKey));
        await _receiver.WaitForRequestsAsync(1, Wait);
        for (var i = 0; i < 5; i++)
        {
            await harness.Test.Bus.Publish(Harness.Registration());
        }

        // The five others arrive while the first waits out its 3 s delay.
        await _receiver.WaitForAcceptedAsync(5, TimeSpan.FromSeconds(2.5));
        Assert.DoesNotContain(slowKey, _receiver.AcceptedKeys);
        await _receiver.WaitForAcceptedAsync(6, Wait);
    }
}
