using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hokusai.Bus.Contracts;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The floor <c>/ingest</c> is held to: a minimal Kestrel endpoint, as a typical application writes one, that reads the
/// body, verifies its <c>sha256=</c> signature (HMAC-SHA256, constant-time), publishes it persistent to a durable queue
/// with a broker confirm (RabbitMQ.Client, one channel with confirmations tracked), and answers 202. Console logs at
/// Information, ASP.NET Core's own at Warning (the template's appsettings). A child process, so /proc gives its CPU alone.
/// Three variants isolate what the host's publish costs: publishing through MassTransit (its envelope), publishing the
/// host's own message (<see cref="BarePipelineEvent"/>: the event in AMQP properties, to a fanout exchange bound to the
/// queue), and publishing the least a message that carries the event can hold: the host's content type and the
/// idempotency key (which for an MLflow event is only in the pipeline's header) as <c>message_id</c>, to that exchange.
/// Seven more each add one part of the host to the floor as it is, to find what the host's extra is made of: <c>log</c>
/// writes the host's delivery-log record for each registration (its <c>DeliveryLogWriter</c>); <c>validate</c> reads and
/// checks each body with the contracts, as <c>/ingest</c> must before it answers (a bad field is a 400 naming it);
/// <c>json</c> only reads every token of the body (the least any check of it must do, and what it costs in place);
/// <c>reader</c> reads and verifies the body with the receiver library's <c>SignedRequestReader</c>, as <c>/ingest</c>
/// does; <c>full</c>, <c>bus</c> and <c>timeout</c> add ASP.NET Core's full builder, an idle MassTransit bus, and the
/// host's confirm timer.
/// </summary>
internal static class IngestFloor
{
    public const string Queue = "hokusai-bench-ingest-floor";

    /// <summary>The fanout exchange the <c>bare</c> variant publishes to.</summary>
    private const string BareExchange = "hokusai-bench-ingest-floor-events";

    /// <summary>MassTransit's exchange for <see cref="FloorEvent"/>.</summary>
    private const string FloorEventExchange = "Hokusai.Bus.Benchmarks:FloorEvent";

    /// <summary>
    /// The child process: <c>ingest-floor AMQP_URL SECRET [VARIANT]</c>, the variant one of <c>masstransit</c>,
    /// <c>bare</c>, <c>key</c>, <c>log</c>, <c>validate</c>, <c>json</c>, <c>reader</c>, <c>full</c>, <c>bus</c>,
    /// <c>timeout</c>; prints <c>ingest-floor ready URL</c>, runs until stdin closes.
    /// </summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var key = Encoding.UTF8.GetBytes(args[1]);
        var connection = await new ConnectionFactory { Uri = new Uri(args[0]) }.CreateConnectionAsync("ingest floor");
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);
        var persistent = new BasicProperties { Persistent = true, ContentType = "application/json" };

        var variant = args is [_, _, var named] ? named : "";
        // full: ASP.NET Core's full builder (the host's), not the slim one.
        var builder = variant == "full" ? WebApplication.CreateBuilder() : WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var viaMassTransit = variant == "masstransit";
        var bare = variant == "bare";
        var keyOnly = variant == "key";
        var validate = variant == "validate";
        var json = variant == "json";
        // The floor writing the host's delivery log too: one Accepted record per registration, through the host's writer.
        await using var log = variant == "log"
            ? new Hokusai.Bus.Operations.DeliveryLog.DeliveryLogWriter(
                token => new ConnectionFactory { Uri = new Uri(args[0]) }.CreateConnectionAsync("ingest floor log", token),
                new Hokusai.Bus.Operations.DeliveryLog.DeliveryLogStream())
            : null;
        if (bare || keyOnly)
        {
            // As the host publishes (IngestPublisher): to a fanout exchange, the event's metadata in properties.
            await channel.ExchangeDeclareAsync(BareExchange, ExchangeType.Fanout, durable: true);
            await channel.QueueBindAsync(Queue, BareExchange, "");
        }

        if (variant == "bus")
        {
            // An idle MassTransit bus in the same process, as the host has for delivery: one receive endpoint, one consumer.
            builder.Services.AddMassTransit(bus =>
            {
                bus.AddConsumer<IdleFloorConsumer>();
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    rabbit.Host(new Uri(args[0]));
                    rabbit.ConfigureEndpoints(context);
                });
            });
        }

        if (viaMassTransit)
        {
            // The same endpoint publishing through MassTransit as a typical application does (its JSON envelope, its
            // publisher confirms), to an exchange bound to the same queue: what MassTransit's publish costs alone.
            await channel.ExchangeDeclareAsync(FloorEventExchange, ExchangeType.Fanout, durable: true);
            await channel.QueueBindAsync(Queue, FloorEventExchange, "");
            builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((_, rabbit) => rabbit.Host(new Uri(args[0]))));
        }

        var app = builder.Build();
        var publisher = viaMassTransit ? app.Services.GetRequiredService<IPublishEndpoint>() : null;
        long published = 0;
        // reader: the body read and its signature verified by the receiver library's reader, as /ingest reads them.
        var reader = variant == "reader"
            ? new Hokusai.Bus.Receiver.SignedRequestReader(new HokusaiWebhook(args[1]),
                new Hokusai.Bus.Receiver.SignedRequestLimits(1024 * 1024, Hokusai.Bus.Receiver.SignedRequestLimits.DefaultBodyTimeout))
            : null;
        app.MapPost("/ingest", async (HttpContext context) =>
        {
            if (reader is not null)
            {
                using var request = await reader.ReadAsync(context);
                if (request.Refusal is not null || request.Abandoned)
                {
                    return Results.StatusCode(StatusCodes.Status401Unauthorized);
                }

                await channel.BasicPublishAsync("", Queue, mandatory: false, persistent, request.Body);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            }

            using var body = new MemoryStream((int)(context.Request.ContentLength ?? 1024));
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.GetBuffer().AsMemory(0, (int)body.Length);
            var signature = context.Request.Headers[WebhookHeaders.Signature].ToString();
            if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || signature.Length != 71
                || !CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, bytes.Span), Convert.FromHexString(signature.AsSpan(7))))
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            if (validate && Refusal(bytes.Span) is { } problem)
            {
                return Results.BadRequest(problem);
            }

            if (json && !IsJson(bytes.Span))
            {
                return Results.BadRequest("The body is not JSON.");
            }

            if (publisher is not null)
            {
                await publisher.Publish(new FloorEvent(bytes.ToArray()));
            }
            else if (bare)
            {
                var pipelineEvent = new PipelineEvent
                {
                    EventType = PipelineEvent.ModelRegisteredType, Shape = PipelineEventShape.Guide, Body = bytes.ToArray(),
                    IdempotencyKey = "floor-" + Interlocked.Increment(ref published), ModelId = "model_abc123", ReceivedAt = DateTimeOffset.UtcNow,
                };
                await channel.BasicPublishAsync(BareExchange, "", mandatory: false, BarePipelineEvent.Properties(pipelineEvent, Activity.Current),
                    pipelineEvent.Body);
            }
            else if (keyOnly)
            {
                var keyed = new BasicProperties
                {
                    Persistent = true, ContentType = BarePipelineEvent.MediaType, MessageId = "floor-" + Interlocked.Increment(ref published),
                };
                await channel.BasicPublishAsync(BareExchange, "", mandatory: false, keyed, bytes);
            }
            else if (variant == "timeout")
            {
                // As the host bounds its publish: one timer for the publish and the wait for its confirm.
                using var confirm = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await channel.BasicPublishAsync("", Queue, mandatory: false, persistent, bytes, confirm.Token).AsTask().WaitAsync(confirm.Token);
            }
            else
            {
                await channel.BasicPublishAsync("", Queue, mandatory: false, persistent, bytes);
                log?.TryWrite(new Hokusai.Bus.Operations.DeliveryLog.DeliveryRecord
                {
                    Kind = Hokusai.Bus.Operations.DeliveryLog.DeliveryRecordKind.Accepted, At = DateTimeOffset.UtcNow,
                    Key = "floor-" + Interlocked.Increment(ref published), ModelId = "model_bench_001",
                    EventType = PipelineEvent.ModelRegisteredType, Host = "floor/" + Environment.ProcessId,
                });
            }

            return Results.StatusCode(StatusCodes.Status202Accepted);
        });
        await app.StartAsync();
        Console.WriteLine($"ingest-floor ready {app.Urls.First()}");
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        await channel.CloseAsync();
        await connection.CloseAsync();
        return 0;
    }

    /// <summary>
    /// What <c>/ingest</c> does to a guide body before it publishes (<c>IngestBody</c>): tell its shape, read it with the
    /// contracts' reader, validate it and take its key; the problem, naming the field, when it is not a registration.
    /// </summary>
    private static string? Refusal(ReadOnlySpan<byte> body)
    {
        if (EventTopLevel.Read(body) is not { IsObject: true, HasEventType: false, HasGuideKey: true })
        {
            return "The body is not a registration in the guide's shape.";
        }

        if (!ModelRegisteredJson.TryDeserialize(body, out var registration, out var error))
        {
            return error;
        }

        var problems = ModelRegisteredValidation.Validate(registration);
        if (problems.Count > 0)
        {
            return string.Join(" ", problems);
        }

        _ = IdempotencyKey.For(registration); // the key /ingest publishes the event under (the body's, or derived)
        return null;
    }

    /// <summary>Whether <paramref name="body"/> is JSON, read token by token to its end and nothing kept.</summary>
    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>A running floor child process.</summary>
    public sealed class Child : IAsyncDisposable
    {
        private readonly Process _process;

        private Child(Process process, Uri url)
        {
            _process = process;
            Url = url;
        }

        public Uri Url { get; }

        public int Pid => _process.Id;

        /// <param name="variant">null for the floor, <c>masstransit</c> or <c>bare</c>.</param>
        public static async Task<Child> StartAsync(Uri amqp, string secret, string? variant = null)
        {
            var (process, url) = variant is not null
                ? await ChildProcess.StartAsync("ingest-floor", amqp.ToString(), secret, variant)
                : await ChildProcess.StartAsync("ingest-floor", amqp.ToString(), secret);
            return new Child(process, new Uri(url));
        }

        public ValueTask DisposeAsync()
        {
            ChildProcess.Stop(_process);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// What the ingest floor's MassTransit variant publishes: the bytes received, as the host's <c>PipelineEvent</c> carries
/// them. Top level, so MassTransit's exchange is <c>Hokusai.Bus.Benchmarks:FloorEvent</c>, the one bound to the queue.
/// </summary>
public sealed record FloorEvent(byte[] Body);

/// <summary>The ingest floor's <c>bus</c> variant's consumer: an endpoint that nothing publishes to.</summary>
public sealed class IdleFloorConsumer : IConsumer<FloorEvent>
{
    public Task Consume(ConsumeContext<FloorEvent> context) => Task.CompletedTask;
}
