using System.Text;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>The one verify call: <c>X-Hokusai-Signature</c> in both forms, rotation, and Standard Webhooks when present.</summary>
public sealed class HokusaiWebhookTests
{
    private const string Secret = "current-secret";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"model_id":"model_abc123"}""");
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(SignatureFormat.Hex)]
    [InlineData(SignatureFormat.Sha256Prefixed)]
    public void A_delivery_signed_with_the_secret_in_either_form_is_valid(SignatureFormat format)
    {
        var headers = Headers((WebhookHeaders.Signature, new WebhookSigner(Secret, format).Sign(Body)));

        Assert.Equal(WebhookVerification.Valid, new HokusaiWebhook(Secret).Verify(Body, headers));
    }

    [Fact]
    public void During_rotation_a_signature_by_a_previous_secret_is_valid_and_an_unknown_one_is_not()
    {
        var webhook = new HokusaiWebhook(["new-secret", Secret]);

        Assert.True(webhook.Verify(Body, Headers((WebhookHeaders.Signature, new WebhookSigner(Secret).Sign(Body)))).IsValid);
        var forged = webhook.Verify(Body, Headers((WebhookHeaders.Signature, new WebhookSigner("other").Sign(Body))));
        Assert.False(forged.IsValid);
        Assert.Equal("X-Hokusai-Signature does not match the body under any secret", forged.Reason);
    }

    [Fact]
    public void A_missing_signature_is_invalid_with_its_reason_and_nothing_throws()
    {
        var result = new HokusaiWebhook(Secret).Verify(Body, Headers());

        Assert.Equal(WebhookVerification.Invalid("X-Hokusai-Signature is missing"), result);
        Assert.False(new HokusaiWebhook(Secret).Verify(Body, Headers((WebhookHeaders.Signature, "sha256=zz"))).IsValid);
    }

    [Fact]
    public void A_changed_body_is_invalid()
    {
        var headers = Headers((WebhookHeaders.Signature, new WebhookSigner(Secret).Sign(Body)));

        Assert.False(new HokusaiWebhook(Secret).Verify(Encoding.UTF8.GetBytes("""{"model_id":"model_abc124"}"""), headers).IsValid);
    }

    [Fact]
    public void Standard_webhooks_headers_when_present_must_verify_and_be_timely()
    {
        var time = new FakeTimeProvider(Now);
        var webhook = new HokusaiWebhook([Secret], time: time);
        var standard = new StandardWebhookSigner(Secret).Sign("key-1", Now, Body);
        var headers = Headers(
            (WebhookHeaders.Signature, new WebhookSigner(Secret).Sign(Body)),
            (StandardWebhookHeaders.Id, "key-1"),
            (StandardWebhookHeaders.Timestamp, StandardWebhookHeaders.FormatTimestamp(Now)),
            (StandardWebhookHeaders.Signature, standard));

        Assert.True(webhook.Verify(Body, headers).IsValid);
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal("Standard Webhooks headers: TimestampTooOld", webhook.Verify(Body, headers).Reason);
    }

    [Fact]
    public void With_standard_webhooks_required_a_delivery_without_them_is_invalid()
    {
        var headers = Headers((WebhookHeaders.Signature, new WebhookSigner(Secret).Sign(Body)));

        Assert.True(new HokusaiWebhook(Secret).Verify(Body, headers).IsValid);
        Assert.Equal("Standard Webhooks headers: MissingHeaders",
            new HokusaiWebhook([Secret], requireStandardWebhooks: true).Verify(Body, headers).Reason);
    }

    private static Func<string, string?> Headers(params (string Name, string Value)[] headers)
    {
        var map = headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);
        return name => map.TryGetValue(name, out var value) ? value : null;
    }
}
