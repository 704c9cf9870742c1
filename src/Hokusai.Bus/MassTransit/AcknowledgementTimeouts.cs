using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>
/// What happens when RabbitMQ closes a webhook endpoint's channel for an acknowledgement timeout (its
/// <c>consumer_timeout</c> is shorter than the hold): one error naming that endpoint's hold setting and the fix,
/// <c>hokusai_ack_timeouts</c>, and from then on that endpoint holds at most half of what was held
/// (<see cref="HoldLimit"/>). Nothing is lost: RabbitMQ puts the unacknowledged messages back, and MassTransit opens a
/// new channel.
/// </summary>
internal sealed class AcknowledgementTimeouts(
    ILogger<AcknowledgementTimeouts> logger,
    HokusaiBusMetrics metrics,
    WebhookEndpointSet endpoints)
{
    /// <summary>
    /// Whether RabbitMQ's reason for closing a channel is an acknowledgement timeout: 406 PRECONDITION_FAILED,
    /// "delivery acknowledgement on channel 1 timed out. Timeout value used: 60000 ms. ...".
    /// </summary>
    public static bool Is(ushort replyCode, string replyText) =>
        replyCode == 406
        && replyText.Contains("acknowledgement", StringComparison.OrdinalIgnoreCase)
        && replyText.Contains("timed out", StringComparison.OrdinalIgnoreCase);

    /// <summary>RabbitMQ closed the channel of <paramref name="queue"/> for an acknowledgement timeout.</summary>
    public void ChannelClosed(string queue)
    {
        metrics.AcknowledgementTimedOut(queue);
        if (endpoints.ByQueue(queue) is not { } endpoint)
        {
            return; // not a webhook endpoint's queue: nothing of ours to lower
        }

        var configured = endpoint.Settings.MaxHold;
        var (held, limit) = endpoint.HoldLimit.AcknowledgementTimedOut(configured);
        Log.AcknowledgementTimedOut(logger, queue, held.TotalSeconds, endpoint.SettingName(nameof(HokusaiWebhookOptions.MaxHold)),
            configured.TotalSeconds, limit.TotalSeconds);
    }
}
