using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

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
