using System.Globalization;

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
