using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// What happens when RabbitMQ closes a webhook endpoint's channel for an acknowledgement timeout (its
/// <c>consumer_timeout</c> is shorter than the hold): one error naming the hold setting and the fix,
/// <c>hokusai_ack_timeouts</c>, and from then on at most half of what was held (<see cref="HoldLimit"/>). Nothing is
/// lost: RabbitMQ puts the unacknowledged messages back, and MassTransit opens a new channel.
/// </summary>
internal sealed class AcknowledgementTimeouts(
    ILogger<AcknowledgementTimeouts> logger,
    HokusaiBusMetrics metrics,
    WebhookEndpointSet endpoints,
    IOptionsMonitor<HokusaiWebhookOptions> options,
    HokusaiSettingNames names)
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
        var settings = options.CurrentValue;
        var (held, limit) = endpoints.HoldLimit.AcknowledgementTimedOut(settings.MaxHold);
        metrics.AcknowledgementTimedOut(queue);
        Log.AcknowledgementTimedOut(logger, queue, held.TotalSeconds, names.Of(settings.KeyOf(nameof(settings.MaxHold))),
            settings.MaxHold.TotalSeconds, limit.TotalSeconds);
    }
}
