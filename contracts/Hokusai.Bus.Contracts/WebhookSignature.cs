using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

/// <summary>The HTTP headers of a webhook delivery.</summary>
public static class WebhookHeaders
{
    /// <summary>Lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the UTF-8 secret.</summary>
    public const string Signature = "X-Hokusai-Signature";

    /// <summary>The payload's <c>idempotency_key</c>, so a receiver can de-duplicate before parsing the body.</summary>
    public const string IdempotencyKey = "X-Hokusai-Idempotency-Key";
}

/// <summary>How <see cref="WebhookSigner"/> writes the signature header.</summary>
public enum SignatureFormat
{
    /// <summary><c>&lt;64 lowercase hex&gt;</c>: the integration guide's format. The default.</summary>
    Hex = 0,

    /// <summary><c>sha256=&lt;64 lowercase hex&gt;</c>: GitHub's form, which the original Python publisher sent.</summary>
    Sha256Prefixed = 1,
}

/// <summary>
/// Signs webhook bodies. Immutable and thread-safe; holds a copy of the key and never exposes or prints it.
/// </summary>
public sealed class WebhookSigner
{
    internal const string Sha256Prefix = "sha256=";
    private readonly byte[] _key;

    /// <summary>Signs with the UTF-8 bytes of <paramref name="secret"/>.</summary>
    /// <exception cref="ArgumentException">The secret is null or empty.</exception>
    public WebhookSigner(string secret, SignatureFormat format = SignatureFormat.Hex)
    {
        _key = KeyOf(secret);
        Format = format;
    }

    /// <summary>The header format this signer writes.</summary>
    public SignatureFormat Format { get; }

    /// <summary>The value of the <c>X-Hokusai-Signature</c> header for <paramref name="body"/>.</summary>
    public string Sign(ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, body, mac);
        var hex = Convert.ToHexStringLower(mac);
        return Format == SignatureFormat.Sha256Prefixed ? Sha256Prefix + hex : hex;
    }

    /// <inheritdoc />
    public override string ToString() => $"WebhookSigner({Format})";

    internal static byte[] KeyOf(string secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            throw new ArgumentException("The webhook secret must not be empty.", nameof(secret));
        }

        return Encoding.UTF8.GetBytes(secret);
    }
}

/// <summary>
/// Verifies <c>X-Hokusai-Signature</c> in constant time. Accepts bare hex (the guide's format) and
/// <c>sha256=</c>-prefixed hex; returns false, never throws, for a missing, empty, malformed or wrong signature.
/// </summary>
public sealed class WebhookVerifier
{
    private const int HexLength = HMACSHA256.HashSizeInBytes * 2;
    private readonly byte[] _key;

    /// <summary>Verifies with the UTF-8 bytes of <paramref name="secret"/>.</summary>
    /// <exception cref="ArgumentException">The secret is null or empty.</exception>
    public WebhookVerifier(string secret) => _key = WebhookSigner.KeyOf(secret);

    /// <summary>True when <paramref name="signature"/> is the signature of exactly <paramref name="body"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> body, string? signature)
    {
        if (signature is null)
        {
            return false;
        }

        var hex = signature.AsSpan().Trim();
        if (hex.StartsWith(WebhookSigner.Sha256Prefix, StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[WebhookSigner.Sha256Prefix.Length..];
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (hex.Length != HexLength
            || Convert.FromHexString(hex, given, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != given.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Verifies against the header that <paramref name="headers"/> returns for <see cref="WebhookHeaders.Signature"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> body, Func<string, string?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return Verify(body, headers(WebhookHeaders.Signature));
    }

    /// <inheritdoc />
    public override string ToString() => nameof(WebhookVerifier);
}
