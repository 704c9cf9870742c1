using System.Globalization;
using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.Serialization;
using RabbitMQ.Client;

namespace Hokusai.Bus;

/// <summary>
/// Puts a copy of the message being consumed back on its queue after a delay, with updated headers, so that a long
/// wait lives in RabbitMQ and not in the host (which would hold the message unacknowledged). The caller then
/// returns, and MassTransit acknowledges the original only after the broker has confirmed the copy.
/// <para>
/// On RabbitMQ, without the delayed-message plugin, the copy goes to a queue per delay,
/// <c>&lt;queue&gt;_delay_&lt;ms&gt;ms</c>, whose <c>x-message-ttl</c> dead-letters it back to <c>&lt;queue&gt;</c> (the
/// technique NServiceBus's transport uses). Every message in one such queue has the same TTL, so they expire in order.
/// Delays are rounded up to two significant digits to keep the queues few; an unused delay queue deletes itself
/// (<c>x-expires</c>) ten minutes after its last message could have expired. With quorum queues (<see cref="QueueKind"/>)
/// the delay queue is a quorum queue too, dead-lettering at least once (<c>x-dead-letter-strategy</c>, which needs
/// <c>x-overflow=reject-publish</c>): RabbitMQ keeps an expired message until the delivery queue has confirmed it, so
/// a node lost in between loses nothing. Other transports (the in-memory test harness) use their own delayed delivery.
/// </para>
/// </summary>
internal static class Redelivery
{
    public const string DelayQueueInfix = "_delay_";

    private static readonly TimeSpan Unused = TimeSpan.FromMinutes(10);

    /// <summary>Sends the copy and waits for the broker's confirm.</summary>
    public static async Task LaterAsync<T>(
        ConsumeContext<T> context, TimeSpan delay, IEnumerable<KeyValuePair<string, string>> headers, QueueKind queues)
        where T : class
    {
        var cancellationToken = context.CancellationToken;
        var milliseconds = Quantize(delay);
        if (context.ReceiveContext is RabbitMqReceiveContext received
            && context.ReceiveContext.TryGetPayload<ChannelContext>(out var channel))
        {
            await ToDelayQueueAsync(context, received, channel, milliseconds, headers, queues.Quorum, cancellationToken).ConfigureAwait(false);
            return;
        }

        var endpoint = await context.GetSendEndpoint(context.ReceiveContext.InputAddress).ConfigureAwait(false);
        var pipe = new ForwardMessagePipe<T>(context, Pipe.Execute<SendContext<T>>(send =>
        {
            foreach (var (name, value) in headers)
            {
                send.Headers.Set(name, value);
            }

            send.Delay = TimeSpan.FromMilliseconds(milliseconds);
        }));
        await endpoint.Send(context.Message, pipe, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The name of the queue that holds messages of <paramref name="queue"/> for <paramref name="milliseconds"/>.</summary>
    public static string DelayQueueName(string queue, long milliseconds) =>
        $"{queue}{DelayQueueInfix}{milliseconds.ToString(CultureInfo.InvariantCulture)}ms";

    /// <summary>Whole milliseconds, at least 1, rounded up to two significant digits (1234 ms -> 1300 ms).</summary>
    public static long Quantize(TimeSpan delay)
    {
        var milliseconds = Math.Max(1L, (long)Math.Ceiling(delay.TotalMilliseconds));
        long step = 1;
        while (milliseconds / step >= 100)
        {
            step *= 10;
        }

        return (milliseconds + step - 1) / step * step;
    }

    private static async Task ToDelayQueueAsync<T>(
        ConsumeContext<T> context,
        RabbitMqReceiveContext received,
        ChannelContext channel,
        long milliseconds,
        IEnumerable<KeyValuePair<string, string>> headers,
        bool quorum,
        CancellationToken cancellationToken)
        where T : class
    {
        var queue = QueueName(context.ReceiveContext.InputAddress);
        var delayQueue = DelayQueueName(queue, milliseconds);
        var arguments = new Dictionary<string, object?>
        {
            ["x-message-ttl"] = milliseconds,
            ["x-dead-letter-exchange"] = "",
            ["x-dead-letter-routing-key"] = queue,
            ["x-expires"] = milliseconds + (long)Unused.TotalMilliseconds,
        };
        if (quorum)
        {
            arguments["x-queue-type"] = "quorum";
            arguments["x-dead-letter-strategy"] = "at-least-once";
            arguments["x-overflow"] = "reject-publish";
        }

        // Declared before every copy: idempotent, and it restarts the queue's x-expires clock.
        await channel.QueueDeclare(delayQueue, true, false, false, arguments!, cancellationToken).ConfigureAwait(false);

        var properties = new BasicProperties(received.Properties)
        {
            Persistent = true,
            Expiration = null,
            Headers = received.Properties.Headers is { } existing
                ? new Dictionary<string, object?>(existing)
                : new Dictionary<string, object?>(),
        };
        foreach (var (name, value) in headers)
        {
            properties.Headers[name] = value;
        }

        await channel.BasicPublishAsync("", delayQueue, true, properties, received.Body.GetBytes(), true,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>rabbitmq://host/vhost/hokusai-webhook-delivery?...</c> -> <c>hokusai-webhook-delivery</c>.</summary>
    private static string QueueName(Uri inputAddress) =>
        Uri.UnescapeDataString(inputAddress.AbsolutePath[(inputAddress.AbsolutePath.LastIndexOf('/') + 1)..]);
}
