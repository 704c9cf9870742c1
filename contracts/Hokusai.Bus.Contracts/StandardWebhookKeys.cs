using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

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
