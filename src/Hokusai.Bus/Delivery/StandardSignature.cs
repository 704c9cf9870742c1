namespace Hokusai.Bus;

/// <summary>The Standard Webhooks <c>webhook-timestamp</c> and <c>webhook-signature</c> of one attempt.</summary>
internal sealed record StandardSignature(string Timestamp, string Signature);
