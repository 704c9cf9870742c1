namespace Hokusai.Bus.Contracts;

/// <summary>The outcome of <see cref="HokusaiWebhook.Verify"/>: valid, or why not (safe to log and to answer with).</summary>
/// <param name="IsValid">Every signature the delivery must carry verifies.</param>
/// <param name="Reason">Why it does not; null when valid.</param>
/// <param name="Nonce">
/// The <c>X-Hokusai-Nonce</c> a valid DeltaOne-signed delivery carried, for the caller to refuse its reuse; else null.
/// </param>
public readonly record struct WebhookVerification(bool IsValid, string? Reason, string? Nonce = null)
{
    /// <summary>A DeltaOne-signed delivery whose signature and timestamp verify, with its <paramref name="nonce"/>.</summary>
    public static WebhookVerification ValidWithNonce(string nonce) => new(true, null, nonce);

    /// <summary>A delivery whose signatures verify.</summary>
    public static WebhookVerification Valid { get; } = new(true, null);

    /// <summary>A delivery refused for <paramref name="reason"/>.</summary>
    public static WebhookVerification Invalid(string reason) => new(false, reason);
}
