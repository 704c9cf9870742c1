namespace Hokusai.Bus.Contracts;

/// <summary>
/// One call to check a delivery, the way svix's <c>Webhook.Verify</c> does: <c>X-Hokusai-Signature</c> (bare hex or
/// <c>sha256=&lt;hex&gt;</c>) under any of the secrets, and the Standard Webhooks headers when they are present or
/// required. Constant-time comparisons; every secret is tried whatever matched, so timing says nothing about which.
/// Immutable and thread-safe; never throws for a bad delivery and never repeats a signature in its reason.
/// </summary>
public sealed class HokusaiWebhook
{
    private readonly WebhookVerifier[] _hokusai;
    private readonly StandardWebhookVerifier _standard;
    private readonly bool _requireStandard;

    /// <summary>Checks deliveries signed with <paramref name="secret"/>.</summary>
    public HokusaiWebhook(string secret)
        : this([secret])
    {
    }

    /// <summary>Checks deliveries signed with any of <paramref name="secrets"/> (the current one first, then previous ones).</summary>
    /// <param name="secrets">At least one; a <c>whsec_</c> secret is base64 for Standard Webhooks, any other is UTF-8.</param>
    /// <param name="requireStandardWebhooks">Also require valid, timely <c>webhook-*</c> headers on every delivery.</param>
    /// <param name="tolerance">How far <c>webhook-timestamp</c> may be from now; 5 minutes by default.</param>
    /// <param name="time">The clock; the system's by default.</param>
    public HokusaiWebhook(
        IEnumerable<string> secrets, bool requireStandardWebhooks = false, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var all = secrets.ToArray();
        _hokusai = Array.ConvertAll(all, static s => new WebhookVerifier(s));
        _standard = new StandardWebhookVerifier(all, tolerance ?? StandardWebhookVerifier.DefaultTolerance, time);
        _requireStandard = requireStandardWebhooks;
    }

    /// <summary>Whether <paramref name="body"/>, exactly as received, carries the signatures it must.</summary>
    /// <param name="body">The raw request body: verify before parsing, never a re-serialization.</param>
    /// <param name="headers">Looks a request header up by name, case-insensitively; null when absent.</param>
    public WebhookVerification Verify(ReadOnlySpan<byte> body, Func<string, string?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var signature = headers(WebhookHeaders.Signature);
        if (string.IsNullOrWhiteSpace(signature))
        {
            return WebhookVerification.Invalid($"{WebhookHeaders.Signature} is missing");
        }

        var matched = false;
        foreach (var verifier in _hokusai)
        {
            matched |= verifier.Verify(body, signature); // every secret, whatever matched: the same work each time
        }

        if (!matched)
        {
            return WebhookVerification.Invalid($"{WebhookHeaders.Signature} does not match the body under any secret");
        }

        if (_requireStandard
            || headers(StandardWebhookHeaders.Id) is not null
            || headers(StandardWebhookHeaders.Timestamp) is not null
            || headers(StandardWebhookHeaders.Signature) is not null)
        {
            var result = _standard.VerifyDetailed(body, headers);
            if (result != StandardWebhookVerificationResult.Valid)
            {
                return WebhookVerification.Invalid($"Standard Webhooks headers: {result}");
            }
        }

        return WebhookVerification.Valid;
    }

    /// <inheritdoc />
    public override string ToString() => $"HokusaiWebhook({_hokusai.Length} secret(s))";
}
