namespace Hokusai.Bus;

/// <summary>What is sent: body, signature and key identical on every attempt; Standard Webhooks headers signed per attempt.</summary>
internal sealed record WebhookDeliveryRequest(
    ReadOnlyMemory<byte> Body, string Signature, string IdempotencyKey, string UserAgent, StandardSignature? Standard = null);
