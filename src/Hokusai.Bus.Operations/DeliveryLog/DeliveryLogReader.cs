using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>
/// Reads the delivery log from a point in time: the one reader behind <c>hokusai-bus deliveries</c> and the host's
/// <c>GET /deliveries</c>. It starts at the stream's timestamp offset for <c>since</c> (RabbitMQ starts at the segment
/// that holds it, so records a little older come too, and are skipped), and, unless following, stops at the stream's end
/// as it was when reading began: it first appends an end marker of its own (a record of no delivery, which every reader
/// skips) and stops when it reaches it.
/// </summary>
/// <param name="connect">Opens a connection to the broker.</param>
/// <param name="stream">The stream's name.</param>
public sealed class DeliveryLogReader(Func<CancellationToken, Task<IConnection>> connect, string stream = DeliveryLogStream.DefaultName)
{
    /// <summary>How many records are delivered to the reader ahead of being read.</summary>
    private const ushort Prefetch = 1000;

    /// <summary>
    /// The records written at or after <paramref name="since"/>, in the order the stream holds them; with
    /// <paramref name="follow"/>, also every record written after, until cancelled.
    /// </summary>
    public async IAsyncEnumerable<DeliveryRecord> ReadAsync(
        DateTimeOffset since, bool follow = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await connect(cancellationToken).ConfigureAwait(false);
        var marker = follow ? null : "hokusai-end-" + Guid.NewGuid().ToString("N");
        if (marker is not null)
        {
            await using var writer = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken)
                .ConfigureAwait(false);
            await Guarded(() => writer.QueueDeclarePassiveAsync(stream, cancellationToken)).ConfigureAwait(false);
            await writer.BasicPublishAsync("", stream, false, new BasicProperties(), Encoding.UTF8.GetBytes($$"""{"marker":"{{marker}}"}"""),
                cancellationToken).ConfigureAwait(false);
        }

        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.BasicQosAsync(0, Prefetch, false, cancellationToken).ConfigureAwait(false);
        var received = Channel.CreateBounded<(IReadOnlyList<DeliveryRecord> Records, bool End)>(new BoundedChannelOptions(Prefetch * 2) { SingleReader = true });
        var consumer = new AsyncEventingBasicConsumer(channel);
        var markerBytes = marker is null ? null : Encoding.UTF8.GetBytes(marker);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken); // the reader stopped reading
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var read = Read(delivery.Body, markerBytes);
            try
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, false, done.Token).ConfigureAwait(false);
                await received.Writer.WriteAsync(read, done.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Nobody reads any more: the channel is about to close.
            }
        };
        consumer.ShutdownAsync += (_, _) =>
        {
            received.Writer.TryComplete();
            return Task.CompletedTask;
        };

        var arguments = new Dictionary<string, object?> { ["x-stream-offset"] = new AmqpTimestamp(since.ToUnixTimeSeconds()) };
        await Guarded(() => channel.BasicConsumeAsync(stream, false, "", false, false, arguments, consumer, cancellationToken)).ConfigureAwait(false);
        try
        {
            await foreach (var (records, end) in received.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (end)
                {
                    yield break;
                }

                foreach (var record in records)
                {
                    if (record.At >= since)
                    {
                        yield return record;
                    }
                }
            }
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>RabbitMQ's 404 for the stream as <see cref="DeliveryLogUnavailableException"/>: missing, or its node down.</summary>
    private async Task Guarded(Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            throw DeliveryLogUnavailableException.From(e, stream);
        }
    }

    /// <summary>The records of one stream message, or the end marker (<paramref name="marker"/>).</summary>
    private static (IReadOnlyList<DeliveryRecord> Records, bool End) Read(ReadOnlyMemory<byte> body, byte[]? marker) =>
        marker is not null && body.Span.IndexOf(marker) >= 0 ? ([], true) : ([.. DeliveryRecord.AllIn(body)], false);
}
