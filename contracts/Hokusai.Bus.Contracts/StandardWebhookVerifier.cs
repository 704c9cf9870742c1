using System.Globalization;
using System.Security.Cryptography;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// Verifies Standard Webhooks headers in constant time per candidate: any <c>v1</c> entry of
/// <c>webhook-signature</c> may match any of the secrets, and <c>webhook-timestamp</c> must be within the tolerance of
/// now. Never throws for bad input: a missing, malformed or wrong header is a <see cref="StandardWebhookVerificationResult"/>.
/// Immutable and thread-safe.
/// </summary>
public sealed class StandardWebhookVerifier
{
    /// <summary>The specification's recommended tolerance: 5 minutes either way.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    private readonly byte[][] _keys;
    private readonly long _toleranceSeconds;
    private readonly TimeProvider _time;

    /// <summary>Verifies with <paramref name="secret"/> alone.</summary>
    /// <param name="secret">A <c>whsec_</c> secret (base64 key) or any other text (its UTF-8 bytes).</param>
    /// <param name="tolerance">How far <c>webhook-timestamp</c> may be from now, either way; 5 minutes when null.</param>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">The secret is empty, or a <c>whsec_</c> secret that is not base64.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tolerance"/> is negative.</exception>
    public StandardWebhookVerifier(string secret, TimeSpan? tolerance = null, TimeProvider? time = null)
        : this([secret], tolerance, time)
    {
    }

    /// <summary>Verifies with any of <paramref name="secrets"/>: the current one and, while rotating, the previous ones.</summary>
    /// <param name="secrets">At least one secret; each a <c>whsec_</c> secret (base64 key) or any other text (its UTF-8 bytes).</param>
    /// <param name="tolerance">How far <c>webhook-timestamp</c> may be from now, either way; 5 minutes when null.</param>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">No secret, an empty one, or a <c>whsec_</c> secret that is not base64.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tolerance"/> is negative.</exception>
    public StandardWebhookVerifier(IEnumerable<string> secrets, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _keys = StandardWebhookKeys.Of(secrets.ToArray(), nameof(secrets));
        var window = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero, nameof(tolerance));
        Tolerance = window;
        _toleranceSeconds = (long)window.TotalSeconds;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How far <c>webhook-timestamp</c> may be from now, either way.</summary>
    public TimeSpan Tolerance { get; }

    /// <summary>True when the headers that <paramref name="headers"/> returns are a valid, timely signature of <paramref name="body"/>.</summary>
    /// <param name="body">The exact body bytes received.</param>
    /// <param name="headers">Returns a header's value by name (<see cref="StandardWebhookHeaders"/>), or null when absent.</param>
    public bool Verify(ReadOnlySpan<byte> body, Func<string, string?> headers) =>
        VerifyDetailed(body, headers) == StandardWebhookVerificationResult.Valid;

    /// <summary>Like <see cref="Verify"/>, but says why a delivery is refused.</summary>
    /// <param name="body">The exact body bytes received.</param>
    /// <param name="headers">Returns a header's value by name (<see cref="StandardWebhookHeaders"/>), or null when absent.</param>
    public StandardWebhookVerificationResult VerifyDetailed(ReadOnlySpan<byte> body, Func<string, string?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var id = headers(StandardWebhookHeaders.Id);
        var timestamp = headers(StandardWebhookHeaders.Timestamp)?.Trim();
        var signatures = headers(StandardWebhookHeaders.Signature);
        if (string.IsNullOrWhiteSpace(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrWhiteSpace(signatures))
        {
            return StandardWebhookVerificationResult.MissingHeaders;
        }

        // Digits only (no sign, no spaces, no fraction): the signed text must be exactly what was parsed.
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return StandardWebhookVerificationResult.InvalidTimestamp;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (seconds < now - _toleranceSeconds)
        {
            return StandardWebhookVerificationResult.TimestampTooOld;
        }

        if (seconds > now + _toleranceSeconds)
        {
            return StandardWebhookVerificationResult.TimestampTooNew;
        }

        var prefix = StandardWebhookKeys.SignedPrefix(id, timestamp);
        // One expected MAC per secret (at most MaxSecrets), computed once; every candidate is compared with each.
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes * StandardWebhookKeys.MaxSecrets];
        var count = _keys.Length;
        for (var i = 0; i < count; i++)
        {
            StandardWebhookKeys.Mac(_keys[i], prefix, body,
                expected.Slice(i * HMACSHA256.HashSizeInBytes, HMACSHA256.HashSizeInBytes));
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var range in signatures.AsSpan().SplitAny(StandardWebhookKeys.Whitespace.AsSpan()))
        {
            var entry = signatures.AsSpan()[range];
            var comma = entry.IndexOf(',');
            if (comma < 0 || !entry[..comma].SequenceEqual(StandardWebhookKeys.Version))
            {
                continue; // empty, or another scheme (e.g. v1a): not ours to judge
            }

            if (!Convert.TryFromBase64Chars(entry[(comma + 1)..], given, out var written)
                || written != HMACSHA256.HashSizeInBytes)
            {
                continue;
            }

            for (var i = 0; i < count; i++)
            {
                if (CryptographicOperations.FixedTimeEquals(
                        expected.Slice(i * HMACSHA256.HashSizeInBytes, HMACSHA256.HashSizeInBytes), given))
                {
                    return StandardWebhookVerificationResult.Valid;
                }
            }
        }

        return StandardWebhookVerificationResult.NoMatchingSignature;
    }

    /// <inheritdoc />
    public override string ToString() => $"StandardWebhookVerifier({_keys.Length} secret(s), tolerance {Tolerance})";
}
