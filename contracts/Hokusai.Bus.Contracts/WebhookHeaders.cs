namespace Hokusai.Bus.Contracts;

/// <summary>The HTTP headers of a webhook delivery.</summary>
public static class WebhookHeaders
{
    /// <summary>Lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the UTF-8 secret.</summary>
    public const string Signature = "X-Hokusai-Signature";

    /// <summary>The payload's <c>idempotency_key</c>, so a receiver can de-duplicate before parsing the body.</summary>
    public const string IdempotencyKey = "X-Hokusai-Idempotency-Key";
}
