using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

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
