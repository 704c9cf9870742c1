using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// Publishes raw JSON as the Python pipeline does (no envelope, persistent, <c>application/json</c>) with publisher
/// confirms: a message counts once the broker confirmed it. <c>mandatory</c> is set, so an unroutable message (no
/// queue bound yet) fails loudly instead of vanishing. Up to <c>window</c> confirms are outstanding at once.
/// </summary>
internal sealed class AmqpPublisher : IAsyncDisposable
{
    public const string RegistrationsExchange = "Hokusai.Bus.Contracts:ModelRegistered";

    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private AmqpPublisher(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public IChannel Channel => _channel;

    public static async Task<AmqpPublisher> ConnectAsync(Uri amqp, string name)
    {
        var connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = name }.CreateConnectionAsync();
        // Tracking on: each BasicPublishAsync completes when the broker confirms (a nack or a return throws).
        // The window below bounds what is outstanding, so the client's own throttling is off.
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: null));
        return new AmqpPublisher(connection, channel);
    }

    /// <summary>
    /// Publishes every message of <paramref name="phase"/> to <paramref name="exchange"/>, at most
    /// <paramref name="window"/> unconfirmed at a time; paced at <paramref name="perSecond"/> when given (open loop:
    /// message i is due at i / rate). Stamps each message's send time just before it is handed to the client.
    /// </summary>
    /// <returns>Seconds from the first publish to the last confirm.</returns>
    public async Task<double> PublishAsync(
        string exchange, Phase phase, Func<int, byte[]> body, int window, double? perSecond = null,
        bool messageIdIsKey = false)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var ticksPerMessage = perSecond is { } rate ? Stopwatch.Frequency / rate : 0;

        async Task Worker()
        {
            int seq;
            while ((seq = Interlocked.Increment(ref next)) < phase.Count)
            {
                if (ticksPerMessage > 0)
                {
                    var due = started + (long)(seq * ticksPerMessage);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(wait);
                    }
                }

                var properties = new BasicProperties
                {
                    ContentType = "application/json",
                    DeliveryMode = DeliveryModes.Persistent,
                    MessageId = messageIdIsKey ? phase.KeyOf(seq) : null,
                };
                var bytes = body(seq);
                phase.MarkSent(seq);
                await _channel.BasicPublishAsync(exchange, "", mandatory: true, properties, bytes);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(window, phase.Count)).Select(_ => Task.Run(Worker)));
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    public async ValueTask DisposeAsync() => await Close(_channel, _connection);

    /// <summary>Closes quietly: after a broker restart there is nothing left to close.</summary>
    internal static async Task Close(IChannel channel, IConnection connection)
    {
        try
        {
            await channel.CloseAsync();
            await connection.CloseAsync();
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.AlreadyClosedException
                                      or RabbitMQ.Client.Exceptions.OperationInterruptedException
                                      or IOException or ObjectDisposedException)
        {
        }

        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}

/// <summary>
/// The AMQP limit: the same bodies published with confirms to a durable fanout exchange and queue, consumed by a plain
/// RabbitMQ.Client consumer with prefetch = concurrency and one ack per message, as MassTransit acks; no MassTransit,
/// no HTTP. Kept open for a whole configuration, so that its latency can also be measured at the e2e's paced rate.
/// </summary>
internal sealed class RawAmqpBaseline : IAsyncDisposable
{
    private const string Name = "hokusai-bench-raw";
    private readonly AmqpPublisher _publisher;
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly Payload _payload;
    private readonly int _window;
    private Phase? _current;

    private RawAmqpBaseline(AmqpPublisher publisher, IConnection connection, IChannel channel, Payload payload, int window)
    {
        _publisher = publisher;
        _connection = connection;
        _channel = channel;
        _payload = payload;
        _window = window;
    }

    public static async Task<RawAmqpBaseline> StartAsync(Uri amqp, Payload payload, int prefetch, int window)
    {
        var publisher = await AmqpPublisher.ConnectAsync(amqp, "bench raw publisher");
        await publisher.Channel.ExchangeDeclareAsync(Name, ExchangeType.Fanout, durable: true);
        await publisher.Channel.QueueDeclareAsync(Name, durable: true, exclusive: false, autoDelete: false);
        await publisher.Channel.QueueBindAsync(Name, Name, "");

        var connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = "bench raw consumer" }
            .CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, (ushort)Math.Min(prefetch, ushort.MaxValue), global: false);
        var baseline = new RawAmqpBaseline(publisher, connection, channel, payload, window);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            if (Volatile.Read(ref baseline._current) is { } phase
                && Phase.TryParse(delivery.BasicProperties.MessageId, out int _, out var seq))
            {
                phase.Arrive(seq, signatureValid: true);
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await channel.BasicConsumeAsync(Name, autoAck: false, consumer);
        return baseline;
    }

    /// <summary>Publishes <paramref name="count"/> messages (paced at <paramref name="perSecond"/> when given) and waits for all.</summary>
    public async Task<Phase> RunAsync(int count, double? perSecond = null)
    {
        var phase = new Phase(count);
        Volatile.Write(ref _current, phase);
        await _publisher.PublishAsync(Name, phase, seq => _payload.Body(phase.Id, seq), _window, perSecond, messageIdIsKey: true);
        await phase.WaitAsync(TimeSpan.FromSeconds(30), () => "raw AMQP consumer");
        return phase;
    }

    public async ValueTask DisposeAsync()
    {
        await AmqpPublisher.Close(_channel, _connection);
        await _publisher.DisposeAsync();
    }
}
