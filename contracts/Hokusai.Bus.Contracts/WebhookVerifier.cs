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
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!TryParse(signature, given))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// True when <paramref name="signature"/> is the DeltaOne signature (<see cref="DeltaOneSigner"/>) of exactly
    /// <paramref name="body"/> sent at <paramref name="timestamp"/> with <paramref name="nonce"/>. The time itself is not
    /// checked here (<see cref="HokusaiWebhook"/> does).
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> body, string? signature, string timestamp, string nonce)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(nonce);
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!TryParse(signature, given))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        DeltaOneSigner.Mac(_key, body, timestamp, nonce, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Reads bare or <c>sha256=</c>-prefixed hex into <paramref name="given"/>; false when it is not 32 bytes of hex.</summary>
    private static bool TryParse(string? signature, Span<byte> given)
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

        return hex.Length == HexLength
               && Convert.FromHexString(hex, given, out _, out var written) == System.Buffers.OperationStatus.Done
               && written == given.Length;
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
