using System.Globalization;
using System.Net.Http.Headers;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The floor under the host's CPU per delivery (issue #14): the least a correct delivery does, by hand, with neither
/// MassTransit nor the plugin. A separate process, like the host, so that /proc gives its CPU alone: RabbitMQ.Client
/// consumes the same queue with prefetch = concurrency, each body is read, validated, keyed, serialized with the
/// contracts' serializer, signed and POSTed over one HttpClient with the host's handler settings, and acknowledged
/// after the 2xx (one ack per message). No retries, breaker, hold, delay queue, metrics or logs.
/// </summary>
internal static class RawBridge
{
    private const string Queue = "hokusai-bench-bridge";
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>The child process: <c>bridge AMQP_URL WEBHOOK_URL SECRET CONCURRENCY</c>; runs until stdin closes.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var url = new Uri(args[1]);
        var signer = new WebhookSigner(args[2]);
        var concurrency = ushort.Parse(args[3], CultureInfo.InvariantCulture);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = concurrency,
            AllowAutoRedirect = false,
        }) { Timeout = Timeout.InfiniteTimeSpan };

        var factory = new ConnectionFactory
        {
            Uri = new Uri(args[0]), ClientProvidedName = "bench raw bridge", ConsumerDispatchConcurrency = concurrency,
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(AmqpPublisher.RegistrationsExchange, ExchangeType.Fanout, durable: true);
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(Queue, AmqpPublisher.RegistrationsExchange, "");
        await channel.BasicQosAsync(0, concurrency, global: false);

        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            if (!ModelRegisteredJson.TryDeserialize(delivery.Body.Span, out var message, out string? _))
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: false);
                return;
            }

            ModelRegisteredValidation.EnsureValid(message);
            var key = IdempotencyKey.For(message);
            var body = ModelRegisteredJson.Serialize(key == message.IdempotencyKey ? message : message with { IdempotencyKey = key });
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = Json;
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signer.Sign(body));
            request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.IsSuccessStatusCode)
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            }
            else
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true);
            }
        };
        await channel.BasicConsumeAsync(Queue, autoAck: false, consumer);
        Console.WriteLine("bridge ready");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>Starts the bridge on its own virtual host, warms it up as the host is warmed up, and measures one saturated run.</summary>
    public static Task<Measured> MeasureAsync(
        BenchReceiver receiver, Payload payload, int concurrency, int count, int window, string secret) =>
        ChildBaseline.MeasureAsync("bridge", "hokusai-bench-bridge", receiver, payload, concurrency, count, window, secret);
}
