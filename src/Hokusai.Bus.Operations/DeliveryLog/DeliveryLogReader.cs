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
/// as it was when reading began: it appends an end marker of its own (a record of no delivery, which every reader
/// skips) once its consumer is attached, and stops when it reaches it. A stream that exists but is still starting is
/// waited for, briefly.
/// </summary>
/// <param name="connect">Opens a connection to the broker.</param>
/// <param name="stream">The stream's name.</param>
public sealed class DeliveryLogReader(Func<CancellationToken, Task<IConnection>> connect, string stream = DeliveryLogStream.DefaultName)
{
    /// <summary>How many records are delivered to the reader ahead of being read.</summary>
    private const ushort Prefetch = 1000;

    /// <summary>
    /// How long a read waits, in steps, for a stream that exists but is still starting: just declared by a host's first
    /// record, or electing a new leader. RabbitMQ refuses a consume then (406 "does not have a replica on the local
    /// node", 404 "down or inaccessible", or, in 3.10, a 541 that closes the connection); a reader that gave up at once
    /// would fail the first look after the first delivery. 5 s in all.
    /// </summary>
    private static readonly TimeSpan[] StartingWaits = [.. new[] { 100, 200, 400, 800, 1500, 2000 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    /// <summary>
    /// The records written at or after <paramref name="since"/>, in the order the stream holds them; with
    /// <paramref name="follow"/>, also every record written after, until cancelled.
    /// </summary>
    public async IAsyncEnumerable<DeliveryRecord> ReadAsync(
        DateTimeOffset since, bool follow = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var marker = follow ? null : "hokusai-end-" + Guid.NewGuid().ToString("N");
        var markerBytes = marker is null ? null : Encoding.UTF8.GetBytes(marker);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken); // the reader stopped reading
        var (connection, channel, received) = await WhileStarting(() => ConsumeAsync(since, markerBytes, done.Token, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        await using var _ = connection;
        await using var __ = channel;
        if (marker is not null)
        {
            // Appended once the consumer is attached: a stream still being declared has no leader to take it yet, and
            // RabbitMQ 3.10 closes the whole connection (541) on a publish to it.
            await using var writer = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken)
                .ConfigureAwait(false);
            await writer.BasicPublishAsync("", stream, false, new BasicProperties(), Encoding.UTF8.GetBytes($$"""{"marker":"{{marker}}"}"""),
                cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await foreach (var (records, end) in received.ReadAllAsync(cancellationToken).ConfigureAwait(false))
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

    /// <summary>
    /// A connection of its own and a channel on it consuming the stream from <paramref name="since"/>, and what it
    /// receives, batch by batch. A refusal closes the connection too (RabbitMQ 3.10 may close it, 541, on a consume from
    /// a stream still being declared), so a retry starts from a new one.
    /// </summary>
    private async Task<(IConnection, IChannel, ChannelReader<(IReadOnlyList<DeliveryRecord> Records, bool End)>)> ConsumeAsync(
        DateTimeOffset since, byte[]? marker, CancellationToken done, CancellationToken cancellationToken)
    {
        var connection = await connect(cancellationToken).ConfigureAwait(false);
        IChannel? channel = null;
        try
        {
            channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.BasicQosAsync(0, Prefetch, false, cancellationToken).ConfigureAwait(false);
            var received = Channel.CreateBounded<(IReadOnlyList<DeliveryRecord> Records, bool End)>(new BoundedChannelOptions(Prefetch * 2) { SingleReader = true });
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                var read = Read(delivery.Body, marker);
                try
                {
                    await channel.BasicAckAsync(delivery.DeliveryTag, false, done).ConfigureAwait(false);
                    await received.Writer.WriteAsync(read, done).ConfigureAwait(false);
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
            await channel.BasicConsumeAsync(stream, false, "", false, false, arguments, consumer, cancellationToken).ConfigureAwait(false);
            return (connection, channel, received.Reader);
        }
        catch
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> again while RabbitMQ says the stream is starting (<see cref="StartingWaits"/>); a
    /// stream that is missing, or still not started after the last wait, is a <see cref="DeliveryLogUnavailableException"/>.
    /// </summary>
    private async Task<T> WhileStarting<T>(Func<Task<T>> step, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (OperationInterruptedException e) when (DeliveryLogUnavailableException.Starting(e) && attempt < StartingWaits.Length)
            {
                await Task.Delay(StartingWaits[attempt], cancellationToken).ConfigureAwait(false);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404 || DeliveryLogUnavailableException.Starting(e))
            {
                throw DeliveryLogUnavailableException.From(e, stream);
            }
        }
    }

    /// <summary>The records of one stream message, or the end marker (<paramref name="marker"/>).</summary>
    private static (IReadOnlyList<DeliveryRecord> Records, bool End) Read(ReadOnlyMemory<byte> body, byte[]? marker) =>
        marker is not null && body.Span.IndexOf(marker) >= 0 ? ([], true) : ([.. DeliveryRecord.AllIn(body)], false);
}
