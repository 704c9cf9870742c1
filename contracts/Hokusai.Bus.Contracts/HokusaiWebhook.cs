namespace Hokusai.Bus.Contracts;

/// <summary>
/// One call to check a delivery, the way svix's <c>Webhook.Verify</c> does: <c>X-Hokusai-Signature</c> (bare hex or
/// <c>sha256=&lt;hex&gt;</c>) under any of the secrets, over the body, or, when <c>X-Hokusai-Timestamp</c> and
/// <c>X-Hokusai-Nonce</c> are sent (the pipeline's DeltaOne scheme, <see cref="DeltaOneSigner"/>), over
/// <c>"&lt;timestamp&gt;.&lt;nonce&gt;." + body</c> with the timestamp within the tolerance of now; and the Standard
/// Webhooks headers when they are present or required. Remembering nonces is the caller's (the result names the nonce). Constant-time comparisons; every secret is tried whatever matched, so timing says nothing about which.
/// Immutable and thread-safe; never throws for a bad delivery and never repeats a signature in its reason.
/// </summary>
public sealed class HokusaiWebhook
{
    private readonly WebhookVerifier[] _hokusai;
    private readonly StandardWebhookVerifier _standard;
    private readonly bool _requireStandard;
    private readonly TimeSpan _tolerance;
    private readonly TimeProvider _time;

    /// <summary>Checks deliveries signed with <paramref name="secret"/>.</summary>
    public HokusaiWebhook(string secret)
        : this([secret])
    {
    }

    /// <summary>Checks deliveries signed with any of <paramref name="secrets"/> (the current one first, then previous ones).</summary>
    /// <param name="secrets">At least one; a <c>whsec_</c> secret is base64 for Standard Webhooks, any other is UTF-8.</param>
    /// <param name="requireStandardWebhooks">Also require valid, timely <c>webhook-*</c> headers on every delivery.</param>
    /// <param name="tolerance">How far <c>webhook-timestamp</c> or <c>X-Hokusai-Timestamp</c> may be from now; 5 minutes by default.</param>
    /// <param name="time">The clock; the system's by default.</param>
    public HokusaiWebhook(
        IEnumerable<string> secrets, bool requireStandardWebhooks = false, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var all = secrets.ToArray();
        _hokusai = Array.ConvertAll(all, static s => new WebhookVerifier(s));
        _tolerance = tolerance ?? StandardWebhookVerifier.DefaultTolerance;
        _time = time ?? TimeProvider.System;
        _standard = new StandardWebhookVerifier(all, _tolerance, time);
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

        var timestamp = headers(WebhookHeaders.Timestamp);
        var nonce = headers(WebhookHeaders.Nonce);
        string? verifiedNonce = null;
        if (timestamp is not null || nonce is not null)
        {
            // The DeltaOne scheme: the signature covers "<timestamp>.<nonce>." + body, and the time must be now.
            if (Stale(timestamp, nonce) is { } problem)
            {
                return WebhookVerification.Invalid(problem);
            }

            var matchedDeltaOne = false;
            foreach (var verifier in _hokusai)
            {
                matchedDeltaOne |= verifier.Verify(body, signature, timestamp!, nonce!);
            }

            if (!matchedDeltaOne)
            {
                return WebhookVerification.Invalid(
                    $"{WebhookHeaders.Signature} does not match \"<{WebhookHeaders.Timestamp}>.<{WebhookHeaders.Nonce}>.\" + the body under any secret");
            }

            verifiedNonce = nonce;
        }
        else
        {
            var matched = false;
            foreach (var verifier in _hokusai)
            {
                matched |= verifier.Verify(body, signature); // every secret, whatever matched: the same work each time
            }

            if (!matched)
            {
                return WebhookVerification.Invalid($"{WebhookHeaders.Signature} does not match the body under any secret");
            }
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

        return verifiedNonce is null ? WebhookVerification.Valid : WebhookVerification.ValidWithNonce(verifiedNonce);
    }

    /// <summary>Why a DeltaOne timestamp and nonce cannot be accepted, naming the header; null when they can.</summary>
    private string? Stale(string? timestamp, string? nonce)
    {
        if (string.IsNullOrWhiteSpace(timestamp))
        {
            return $"{WebhookHeaders.Timestamp} is missing (it is required with {WebhookHeaders.Nonce})";
        }

        if (string.IsNullOrWhiteSpace(nonce))
        {
            return $"{WebhookHeaders.Nonce} is missing (it is required with {WebhookHeaders.Timestamp})";
        }

        if (nonce.Length > 128)
        {
            return $"{WebhookHeaders.Nonce} is longer than 128 characters";
        }

        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || seconds > 253_402_300_799)
        {
            return $"{WebhookHeaders.Timestamp} is not a unix time in whole seconds";
        }

        var offset = DateTimeOffset.FromUnixTimeSeconds(seconds) - _time.GetUtcNow();
        return offset.Duration() > _tolerance
            ? $"{WebhookHeaders.Timestamp} is {Math.Abs(offset.TotalSeconds):0} s {(offset < TimeSpan.Zero ? "in the past" : "in the future")}; "
              + $"more than {_tolerance.TotalMinutes:0.#} minutes from now is refused"
            : null;
    }

    /// <inheritdoc />
    public override string ToString() => $"HokusaiWebhook({_hokusai.Length} secret(s))";
}
