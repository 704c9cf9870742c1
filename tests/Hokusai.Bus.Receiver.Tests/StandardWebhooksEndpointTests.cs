using System.Net;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>Standard Webhooks headers at the endpoint: checked when present, required when configured, timed by a fake clock.</summary>
public sealed class StandardWebhooksEndpointTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static Task<ReceiverHost> Start(FakeTimeProvider time, bool require = false, string[]? previous = null) =>
        ReceiverHost.StartAsync(
            o =>
            {
                o.RequireStandardWebhooks = require;
                o.PreviousSecrets = previous ?? [];
            },
            s => s.AddSingleton<TimeProvider>(time));

    [Fact]
    public async Task Valid_standard_headers_are_accepted()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body, [Deliveries.Hokusai(body), .. Deliveries.Standard(body, Now)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(host.Handled);
    }

    [Fact]
    public async Task A_timestamp_older_than_five_minutes_is_rejected()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var atLimit = Deliveries.NewBody();
        var tooOld = Deliveries.NewBody();
        var signedAt = time.GetUtcNow();

        time.Advance(TimeSpan.FromMinutes(5));
        using var accepted = await host.PostAsync(atLimit, [Deliveries.Hokusai(atLimit), .. Deliveries.Standard(atLimit, signedAt)]);
        time.Advance(TimeSpan.FromSeconds(1));
        using var rejected = await host.PostAsync(tooOld, [Deliveries.Hokusai(tooOld), .. Deliveries.Standard(tooOld, signedAt)]);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Equal("invalid signature", await Deliveries.JsonValue(rejected, "error"));
        Assert.Single(host.Handled);
        Assert.Contains(host.Logs.Lines, l => l.Contains("TimestampTooOld", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_timestamp_more_than_five_minutes_ahead_is_rejected()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body,
            [Deliveries.Hokusai(body), .. Deliveries.Standard(body, Now + TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1))]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_tampered_body_is_rejected()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var original = Deliveries.NewBody();
        var tampered = ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(original) with { TokenSymbol = "EVIL" });

        using var bothForOriginal = await host.PostAsync(tampered, [Deliveries.Hokusai(original), .. Deliveries.Standard(original, Now)]);
        // Even with a valid X-Hokusai-Signature for the new bytes, the Standard signature still covers the original.
        using var standardForOriginal = await host.PostAsync(tampered, [Deliveries.Hokusai(tampered), .. Deliveries.Standard(original, Now)]);

        Assert.Equal(HttpStatusCode.Unauthorized, bothForOriginal.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, standardForOriginal.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task A_replayed_delivery_with_a_fresh_timestamp_header_is_rejected()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var body = Deliveries.NewBody();
        var headers = Deliveries.Standard(body, Now);
        time.Advance(TimeSpan.FromHours(1));
        headers[1] = (StandardWebhookHeaders.Timestamp, StandardWebhookHeaders.FormatTimestamp(time.GetUtcNow()));

        using var response = await host.PostAsync(body, [Deliveries.Hokusai(body), .. headers]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task Several_signatures_where_one_matches_are_accepted()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var body = Deliveries.NewBody();
        var valid = new StandardWebhookSigner(ReceiverHost.Secret).Sign("msg_many", Now, body);
        var other = new StandardWebhookSigner("some-other-secret").Sign("msg_many", Now, body);
        var id = (StandardWebhookHeaders.Id, "msg_many");
        var timestamp = (StandardWebhookHeaders.Timestamp, StandardWebhookHeaders.FormatTimestamp(Now));

        using var oneLine = await host.PostAsync(body, Deliveries.Hokusai(body), id, timestamp,
            (StandardWebhookHeaders.Signature, $"v1a,c29tZXRoaW5n {other}  v1,bm90LWEtbWFj {valid}"));
        var second = Deliveries.NewBody();
        using var twoLines = await host.PostAsync(second, Deliveries.Hokusai(second), id, timestamp,
            (StandardWebhookHeaders.Signature, new StandardWebhookSigner("some-other-secret").Sign("msg_many", Now, second)),
            (StandardWebhookHeaders.Signature, new StandardWebhookSigner(ReceiverHost.Secret).Sign("msg_many", Now, second)));
        var third = Deliveries.NewBody();
        using var noneMatch = await host.PostAsync(third, Deliveries.Hokusai(third), id, timestamp,
            (StandardWebhookHeaders.Signature, $"{other} {valid}")); // signatures of another body

        Assert.Equal(HttpStatusCode.OK, oneLine.StatusCode);
        Assert.Equal(HttpStatusCode.OK, twoLines.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noneMatch.StatusCode);
        Assert.Equal(2, host.Handled.Count);
    }

    [Fact]
    public async Task A_standard_signature_made_with_a_previous_secret_verifies()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time, require: true, previous: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body,
            [Deliveries.Hokusai(body), .. Deliveries.Standard(body, Now, "msg_rot", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Partial_standard_headers_are_rejected()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time);
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body, Deliveries.Hokusai(body), (StandardWebhookHeaders.Id, "msg_only_id"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.Handled);
    }

    [Fact]
    public async Task Required_standard_webhooks_reject_a_delivery_with_only_x_hokusai_signature()
    {
        var time = new FakeTimeProvider(Now);
        await using var host = await Start(time, require: true);
        var body = Deliveries.NewBody();

        using var hokusaiOnly = await host.PostSignedAsync(body);
        using var both = await host.PostAsync(body, [Deliveries.Hokusai(body), .. Deliveries.Standard(body, Now)]);
        var other = Deliveries.NewBody();
        using var standardOnly = await host.PostAsync(other, Deliveries.Standard(other, Now));

        Assert.Equal(HttpStatusCode.Unauthorized, hokusaiOnly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, standardOnly.StatusCode); // X-Hokusai-Signature is always required
        Assert.Single(host.Handled);
    }
}
