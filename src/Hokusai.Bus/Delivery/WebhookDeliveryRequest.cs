namespace Hokusai.Bus;

/// <summary>
/// What is sent. A registration's body, <c>X-Hokusai-Signature</c> and key are the same on every attempt; a DeltaOne
/// event's signature is made per attempt with a fresh timestamp and nonce (<see cref="DeltaOne"/>), and Standard
/// Webhooks headers, when on, are signed per attempt too.
/// </summary>
internal sealed record WebhookDeliveryRequest(
    ReadOnlyMemory<byte> Body, string Signature, string IdempotencyKey, string UserAgent, DeliverySubject Subject,
    bool IsDeltaOne = false, StandardSignature? Standard = null, DeltaOneAttempt? DeltaOne = null);

/// <summary>The <c>X-Hokusai-Timestamp</c> and <c>X-Hokusai-Nonce</c> of one attempt at a DeltaOne event.</summary>
internal sealed record DeltaOneAttempt(string Timestamp, string Nonce);
