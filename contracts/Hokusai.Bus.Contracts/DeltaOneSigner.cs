using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// Signs the way the Hokusai pipeline signs its DeltaOne events (<c>deltaone.achieved</c>, <c>deltaone.minted</c>,
/// <c>deltaone.reward_ingest_failed</c>): <c>X-Hokusai-Signature: sha256=</c> + lowercase hex HMAC-SHA256(secret,
/// <c>"&lt;timestamp&gt;.&lt;nonce&gt;." + body</c>), with <c>X-Hokusai-Timestamp</c> (unix seconds) and
/// <c>X-Hokusai-Nonce</c> (a UUID) new on every attempt, since receivers refuse stale timestamps and reused nonces.
/// Immutable and thread-safe; never exposes or prints its key.
/// </summary>
public sealed class DeltaOneSigner
{
    /// <summary>The User-Agent the pipeline sends its DeltaOne events with.</summary>
    public const string UserAgent = "Hokusai-DeltaOne/1.0";

    private readonly byte[] _key;

    /// <summary>Signs with the UTF-8 bytes of <paramref name="secret"/>.</summary>
    /// <exception cref="ArgumentException">The secret is null or empty.</exception>
    public DeltaOneSigner(string secret) => _key = WebhookSigner.KeyOf(secret);

    /// <summary>The <c>X-Hokusai-Signature</c> of <paramref name="body"/> sent at <paramref name="timestamp"/> with <paramref name="nonce"/>.</summary>
    public string Sign(ReadOnlySpan<byte> body, string timestamp, string nonce)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(_key, body, timestamp, nonce, mac);
        return WebhookSigner.Sha256Prefix + Convert.ToHexStringLower(mac);
    }

    /// <summary>A fresh timestamp and nonce for an attempt at <paramref name="now"/>.</summary>
    public static (string Timestamp, string Nonce) NewAttempt(DateTimeOffset now) =>
        (now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), Guid.NewGuid().ToString());

    /// <inheritdoc />
    public override string ToString() => nameof(DeltaOneSigner);

    /// <summary>HMAC-SHA256 of <c>"&lt;timestamp&gt;.&lt;nonce&gt;." + body</c>, without copying the body.</summary>
    internal static void Mac(byte[] key, ReadOnlySpan<byte> body, string timestamp, string nonce, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"{timestamp}.{nonce}."));
        hmac.AppendData(body);
        hmac.GetHashAndReset(mac);
    }
}
