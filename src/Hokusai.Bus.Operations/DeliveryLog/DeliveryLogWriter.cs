using System.Buffers;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>
/// Writes delivery records to the stream from a bounded buffer that never blocks or slows the caller: <see cref="TryWrite"/>
/// only enqueues, and a background loop publishes what is buffered in batches of up to <see cref="BatchSize"/> records
/// (waiting up to <see cref="Linger"/> for a batch to fill),
/// each batch one stream message (lines of JSON, <see cref="DeliveryRecord.AllIn"/>) confirmed by the broker. A record
/// that cannot be buffered (the buffer is full) or written (the broker is down, or refused the batch) is counted in
/// <see cref="Dropped"/> and reported once through <c>onProblem</c>; it is never retried forever, so a broker outage costs
/// deliveries nothing. The connection is made again after a failure, at most every 5 s.
/// </summary>
public sealed class DeliveryLogWriter : IAsyncDisposable
{
    /// <summary>The default buffer: 10,000 records, about 5 MB.</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>The most records published in one confirmed batch.</summary>
    public const int BatchSize = 256;

    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(5);

    /// <summary>How long a batch waits for more records before it is published: records reach the log this much later.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);

    private readonly Channel<DeliveryRecord> _buffer;
    private readonly Func<CancellationToken, Task<IConnection>> _connect;
    private readonly DeliveryLogStream _stream;
    private readonly Action<string>? _onProblem;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _dropped;
    private long _written;
    private int _problemReported;

    /// <param name="connect">Opens a connection to the broker (the host's nodes, user and virtual host).</param>
    /// <param name="stream">The stream and its retention.</param>
    /// <param name="onProblem">Told, once until writing works again, why records are being dropped; never a secret.</param>
    /// <param name="capacity">How many records may wait to be written.</param>
    public DeliveryLogWriter(
        Func<CancellationToken, Task<IConnection>> connect, DeliveryLogStream stream, Action<string>? onProblem = null,
        int capacity = DefaultCapacity)
    {
        _connect = connect;
        _stream = stream;
        _onProblem = onProblem;
        // Wait mode, written with TryWrite only: a full buffer refuses at once (and the record is counted), never blocks.
        _buffer = Channel.CreateBounded<DeliveryRecord>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _loop = Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>Records that were not written: the buffer was full, or the broker did not take them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records the broker confirmed.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Buffers <paramref name="record"/> for writing; never blocks. False when it was dropped.</summary>
    public bool TryWrite(DeliveryRecord record)
    {
        if (_buffer.Writer.TryWrite(record))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped); // the buffer is full, or the writer has stopped
        return false;
    }

    /// <summary>
    /// Writes what is buffered, for at most <paramref name="timeout"/>, then stops; what is left is dropped. Only the first
    /// call does anything; later ones (a host's stop, then its disposal) wait for it.
    /// </summary>
    public Task FlushAndStopAsync(TimeSpan timeout)
    {
        lock (_stopping)
        {
            return _stopped ??= StopAsync(timeout);
        }
    }

    public async ValueTask DisposeAsync() => await FlushAndStopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);

    private Task? _stopped;

    private async Task StopAsync(TimeSpan timeout)
    {
        _buffer.Writer.TryComplete();
        await Task.WhenAny(_loop, Task.Delay(timeout)).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var batch = new List<DeliveryRecord>(BatchSize);
        IConnection? connection = null;
        IChannel? channel = null;
        try
        {
            while (await _buffer.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                // Linger a little for a fuller batch: one confirmed publish for many records costs the host far less
                // than one for each (the log's cost per delivery: docs/OPERATIONS.md, "What it costs").
                if (_buffer.Reader.Count < BatchSize && !_buffer.Reader.Completion.IsCompleted && Volatile.Read(ref _stopped) is null)
                {
                    await Task.Delay(Linger, stopping).ConfigureAwait(false);
                }

                while (batch.Count < BatchSize && _buffer.Reader.TryRead(out var record))
                {
                    batch.Add(record);
                }

                try
                {
                    if (channel is not { IsOpen: true })
                    {
                        (connection, channel) = await OpenAsync(connection, stopping).ConfigureAwait(false);
                    }

                    await PublishAsync(channel, batch, stopping).ConfigureAwait(false);
                    Interlocked.Add(ref _written, batch.Count);
                    Volatile.Write(ref _problemReported, 0);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    Interlocked.Add(ref _dropped, batch.Count);
                    Report($"{batch.Count} delivery record(s) were not written to {_stream.Name}: {Describe(e)}. "
                           + "Records are dropped (counted) until it works again; deliveries are not affected.");
                    batch.Clear(); // counted: a stop during the drain below must not count it again
                    channel = null;
                    await DrainFor(Reconnect, stopping).ConfigureAwait(false);
                }

                batch.Clear();
            }
        }
        finally
        {
            // Stopped before all was written: what is in hand and what is still buffered is dropped, and counted.
            Interlocked.Add(ref _dropped, batch.Count);
            _buffer.Writer.TryComplete();
            while (_buffer.Reader.TryRead(out _))
            {
                Interlocked.Increment(ref _dropped);
            }

            await CloseAsync(connection).ConfigureAwait(false);
        }
    }

    /// <summary>While the broker is away, what arrives is dropped (counted) rather than left to fill the buffer.</summary>
    private async Task DrainFor(TimeSpan wait, CancellationToken stopping)
    {
        var until = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < until && !stopping.IsCancellationRequested)
        {
            while (_buffer.Reader.TryRead(out _))
            {
                Interlocked.Increment(ref _dropped);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), stopping).ConfigureAwait(false);
        }
    }

    private async Task<(IConnection, IChannel)> OpenAsync(IConnection? connection, CancellationToken stopping)
    {
        await CloseAsync(connection).ConfigureAwait(false);
        connection = await _connect(stopping).ConfigureAwait(false);
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stopping).ConfigureAwait(false);
        try
        {
            await _stream.DeclareAsync(channel, stopping).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            // The stream exists with other retention arguments: use it as it is (a policy changes retention).
            Report($"{_stream.Name} exists with other arguments than these settings give; it is used as it is. "
                   + "Change its retention with a RabbitMQ policy (max-age, max-length-bytes), or delete it.");
            channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stopping).ConfigureAwait(false);
            await channel.QueueDeclarePassiveAsync(_stream.Name, stopping).ConfigureAwait(false);
        }

        return (connection, channel);
    }

    /// <summary>The batch as one stream message (lines of JSON), confirmed by the broker within 10 s.</summary>
    private async Task PublishAsync(IChannel channel, List<DeliveryRecord> batch, CancellationToken stopping)
    {
        _lines.Clear();
        using (var json = new System.Text.Json.Utf8JsonWriter(_lines))
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (i > 0)
                {
                    json.Flush();
                    _lines.Write("\n"u8);
                    json.Reset(_lines);
                }

                batch[i].WriteTo(json);
            }
        }

        var properties = new BasicProperties { Persistent = true, ContentType = "application/x-ndjson" };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await channel.BasicPublishAsync("", _stream.Name, false, properties, _lines.WrittenMemory, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>The batch being published, as lines of JSON; reused from batch to batch (one publishing loop).</summary>
    private readonly ArrayBufferWriter<byte> _lines = new(64 * 1024);

    private void Report(string problem)
    {
        if (Interlocked.Exchange(ref _problemReported, 1) == 0)
        {
            try
            {
                _onProblem?.Invoke(problem);
            }
            catch (Exception)
            {
                // Whoever listens must not stop the writer.
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        BrokerUnreachableException => "the broker cannot be reached",
        OperationCanceledException or TimeoutException => "the broker did not confirm in time",
        _ => e.GetType().Name + ": " + e.Message.Split('\n')[0],
    };

    private static async Task CloseAsync(IConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a connection that is already gone.
        }
    }
}
