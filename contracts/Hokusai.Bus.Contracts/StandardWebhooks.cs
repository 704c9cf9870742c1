using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The headers of the Standard Webhooks specification (standardwebhooks.com), which a delivery may carry besides
/// <see cref="WebhookHeaders.Signature"/>: they add a message id and a timestamp to what is signed, so a receiver can
/// refuse replays, and allow several signatures at once, so a secret can be rotated without downtime.
/// </summary>
public static class StandardWebhookHeaders
{
    /// <summary>The message id; the same on every attempt to deliver one message.</summary>
    public const string Id = "webhook-id";

    /// <summary>When the message was sent (this attempt), in integer seconds since the Unix epoch.</summary>
    public const string Timestamp = "webhook-timestamp";

    /// <summary>
    /// Space-separated signatures, each <c>v1,&lt;base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"&gt;</c>; one
    /// matching entry is enough.
    /// </summary>
    public const string Signature = "webhook-signature";

    /// <summary>The <see cref="Timestamp"/> header value of <paramref name="timestamp"/>: whole Unix seconds.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}

/// <summary>The outcome of <see cref="StandardWebhookVerifier.VerifyDetailed"/>.</summary>
public enum StandardWebhookVerificationResult
{
    /// <summary>A signature matched and the timestamp is within the tolerance.</summary>
    Valid = 0,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c> or <c>webhook-signature</c> is missing or empty.</summary>
    MissingHeaders = 1,

    /// <summary><c>webhook-timestamp</c> is not a whole number of seconds since the Unix epoch.</summary>
    InvalidTimestamp = 2,

    /// <summary>The timestamp is older than the tolerance allows: possibly a replay.</summary>
    TimestampTooOld = 3,

    /// <summary>The timestamp is further in the future than the tolerance allows.</summary>
    TimestampTooNew = 4,

    /// <summary>No <c>v1</c> entry of <c>webhook-signature</c> is the signature of this id, timestamp and body under any secret.</summary>
    NoMatchingSignature = 5,
}

/// <summary>
/// Signs deliveries the Standard Webhooks way: <c>webhook-signature</c> is <c>v1,&lt;base64 HMAC-SHA256&gt;</c> of
/// <c>"{id}.{timestamp}.{body}"</c>, one entry per secret. Immutable and thread-safe; holds copies of the keys and
/// never exposes or prints them.
/// </summary>
/// <remarks>
/// A secret that starts with <c>whsec_</c> is the specification's form: the key is the base64-decoded rest. Any other
/// secret is used as its UTF-8 bytes, so the <c>WEBHOOK_SECRET</c> of the integration guide works unchanged.
/// </remarks>
public sealed class StandardWebhookSigner
{
    private readonly byte[][] _keys;

    /// <summary>Signs with every one of <paramref name="secrets"/> (several while rotating: one signature each).</summary>
    /// <exception cref="ArgumentException">No secret, an empty one, or a <c>whsec_</c> secret that is not base64.</exception>
    public StandardWebhookSigner(params string[] secrets) => _keys = StandardWebhookKeys.Of(secrets, nameof(secrets));

    /// <summary>The <c>webhook-signature</c> header value for <paramref name="body"/> sent as message <paramref name="id"/> at <paramref name="timestamp"/>.</summary>
    /// <param name="id">The <c>webhook-id</c> header value; not empty, no whitespace.</param>
    /// <param name="timestamp">The moment sent as <c>webhook-timestamp</c>; only whole seconds are signed (see <see cref="StandardWebhookHeaders.FormatTimestamp"/>).</param>
    /// <param name="body">The exact body bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is empty or contains whitespace.</exception>
    public string Sign(string id, DateTimeOffset timestamp, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(id) || id.AsSpan().ContainsAny(StandardWebhookKeys.Whitespace))
        {
            throw new ArgumentException("The webhook id must not be empty or contain whitespace.", nameof(id));
        }

        var prefix = StandardWebhookKeys.SignedPrefix(id, StandardWebhookHeaders.FormatTimestamp(timestamp));
        var header = new StringBuilder(_keys.Length * 48);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var key in _keys)
        {
            StandardWebhookKeys.Mac(key, prefix, body, mac);
            if (header.Length > 0)
            {
                header.Append(' ');
            }

            header.Append(StandardWebhookKeys.Version).Append(',').Append(Convert.ToBase64String(mac));
        }

        return header.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"StandardWebhookSigner({_keys.Length} secret(s))";
}

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

/// <summary>Key derivation and the HMAC shared by <see cref="StandardWebhookSigner"/> and <see cref="StandardWebhookVerifier"/>.</summary>
internal static class StandardWebhookKeys
{
    internal const string Version = "v1";
    internal const string SecretPrefix = "whsec_";
    internal const int MaxSecrets = 8;
    internal const string Whitespace = " \t\r\n";

    internal static byte[][] Of(string[] secrets, string parameter)
    {
        if (secrets is null || secrets.Length == 0)
        {
            throw new ArgumentException("At least one webhook secret is required.", parameter);
        }

        if (secrets.Length > MaxSecrets)
        {
            throw new ArgumentException($"At most {MaxSecrets} webhook secrets can be used at once.", parameter);
        }

        var keys = new byte[secrets.Length][];
        for (var i = 0; i < secrets.Length; i++)
        {
            keys[i] = KeyOf(secrets[i], parameter);
        }

        return keys;
    }

    /// <summary>The key of one secret. The messages never contain the secret.</summary>
    internal static byte[] KeyOf(string? secret, string parameter)
    {
        if (string.IsNullOrEmpty(secret))
        {
            throw new ArgumentException("A webhook secret must not be empty.", parameter);
        }

        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(secret);
        }

        var encoded = secret.AsSpan(SecretPrefix.Length);
        var key = new byte[encoded.Length]; // base64 never decodes to more bytes than it has characters
        if (encoded.IsEmpty || !Convert.TryFromBase64Chars(encoded, key, out var written) || written == 0)
        {
            throw new ArgumentException(
                "A webhook secret that starts with 'whsec_' must continue with the base64 key (Standard Webhooks).",
                parameter);
        }

        return key[..written];
    }

    /// <summary>The UTF-8 bytes of <c>"{id}.{timestamp}."</c>, which precede the body in the signed content.</summary>
    internal static byte[] SignedPrefix(string id, string timestamp) => Encoding.UTF8.GetBytes($"{id}.{timestamp}.");

    internal static void Mac(byte[] key, byte[] prefix, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}
