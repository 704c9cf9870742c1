namespace Hokusai.Bus.Cli.Receiving;

/// <summary>One request as the receiver saw it.</summary>
internal sealed record Receipt(
    int Number,
    ReceiptKind Kind,
    int Status,
    string? IdempotencyKey,
    string? ModelId,
    bool? SignatureValid,
    string Detail);
