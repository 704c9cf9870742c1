using System.Security.Cryptography;

namespace Hokusai.Bus.Contracts;

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
