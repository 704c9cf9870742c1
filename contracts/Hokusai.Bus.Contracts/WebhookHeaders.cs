namespace Hokusai.Bus.Contracts;

/// <summary>The HTTP headers of a webhook delivery.</summary>
public static class WebhookHeaders
{
    /// <summary>Lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the UTF-8 secret.</summary>
    public const string Signature = "X-Hokusai-Signature";

    /// <summary>The payload's <c>idempotency_key</c>, so a receiver can de-duplicate before parsing the body.</summary>
    public const string IdempotencyKey = "X-Hokusai-Idempotency-Key";

    /// <summary>
    /// The DeltaOne scheme's unix time in seconds, taken anew for each attempt; with <see cref="Nonce"/>, the signature
    /// is <c>sha256=</c> + hex HMAC-SHA256 of <c>"&lt;timestamp&gt;.&lt;nonce&gt;." + body</c> (<see cref="DeltaOneSigner"/>).
    /// </summary>
    public const string Timestamp = "X-Hokusai-Timestamp";

    /// <summary>The DeltaOne scheme's one-time value: a new UUID for each attempt.</summary>
    public const string Nonce = "X-Hokusai-Nonce";
}
