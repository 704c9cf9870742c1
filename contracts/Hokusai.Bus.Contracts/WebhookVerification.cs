namespace Hokusai.Bus.Contracts;

/// <summary>The outcome of <see cref="HokusaiWebhook.Verify"/>: valid, or why not (safe to log and to answer with).</summary>
/// <param name="IsValid">Every signature the delivery must carry verifies.</param>
/// <param name="Reason">Why it does not; null when valid.</param>
public readonly record struct WebhookVerification(bool IsValid, string? Reason)
{
    /// <summary>A delivery whose signatures verify.</summary>
    public static WebhookVerification Valid { get; } = new(true, null);

    /// <summary>A delivery refused for <paramref name="reason"/>.</summary>
    public static WebhookVerification Invalid(string reason) => new(false, reason);
}
