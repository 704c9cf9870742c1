using System.Diagnostics;
using System.Globalization;
using System.Net.Mime;
using System.Text;
using Hokusai.Bus.Contracts;
using RabbitMQ.Client;

namespace Hokusai.Bus;

/// <summary>
/// A <see cref="PipelineEvent"/> as the host's <c>/ingest</c> publishes it: the event's bytes as they were received, as
/// the message body, and the rest of the event in AMQP's own properties, which the management UI shows beside the body:
/// <list type="bullet">
/// <item><c>content_type</c> <c>application/vnd.hokusai.pipeline-event+json; shape=mlflow</c> (or <c>guide</c>,
/// <c>deltaone</c>);</item>
/// <item><c>message_id</c> the idempotency key, <c>type</c> the event type, <c>timestamp</c> when the host received it
/// (to the second);</item>
/// <item>no headers but the W3C trace context when a trace is recorded, and a key or type over AMQP's 255 bytes for a
/// property (<c>Hokusai-Idempotency-Key</c>, <c>Hokusai-Event-Type</c>).</item>
/// </list>
/// The model id is the body's, read back from it. A header table costs RabbitMQ far more per message than these
/// properties (docs/PERFORMANCE.md, "Against the floors"). Every webhook endpoint reads this form, the form an earlier
/// host published (every field in a <c>Hokusai-*</c> header), and MassTransit's envelope
/// (<see cref="BarePipelineEventDeserializer"/>), so events still in a queue from an older host are delivered.
/// </summary>
internal static class BarePipelineEvent
{
    public const string MediaType = "application/vnd.hokusai.pipeline-event+json";

    public static readonly ContentType ContentType = new(MediaType);

    /// <summary>The content type's parameter that names <see cref="PipelineEvent.Shape"/>.</summary>
    public const string ShapeParameter = "shape";

    /// <summary><see cref="PipelineEvent.EventType"/>, when it is too long for the <c>type</c> property (and in an earlier host's form).</summary>
    public const string EventTypeHeader = "Hokusai-Event-Type";

    /// <summary><see cref="PipelineEvent.IdempotencyKey"/>, when it is too long for <c>message_id</c> (and in an earlier host's form).</summary>
    public const string IdempotencyKeyHeader = "Hokusai-Idempotency-Key";

    /// <summary>An earlier host's form: the model id.</summary>
    public const string ModelIdHeader = "Hokusai-Model-Id";

    /// <summary>An earlier host's form: the shape and the time received.</summary>
    private const string ShapeHeader = "Hokusai-Event-Shape", ReceivedAtHeader = "Hokusai-Received-At";

    /// <summary>The W3C trace context of the span that published it, which the delivery's span continues.</summary>
    private const string TraceParent = "traceparent", TraceState = "tracestate";

    private static readonly long FirstSecond = DateTimeOffset.MinValue.ToUnixTimeSeconds(), LastSecond = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>What AMQP's short-string properties hold, in UTF-8 bytes.</summary>
    private const int ShortString = 255;

    private const string GuideType = $"{MediaType}; {ShapeParameter}=guide", MlflowType = $"{MediaType}; {ShapeParameter}=mlflow",
        DeltaOneType = $"{MediaType}; {ShapeParameter}=deltaone";

    /// <summary>
    /// The properties the message with <paramref name="pipelineEvent"/>'s body is published with: persistent, and the
    /// event in properties (headers only for a key or type too long for one, and the trace of <paramref name="activity"/>
    /// when it is recorded).
    /// </summary>
    public static BasicProperties Properties(PipelineEvent pipelineEvent, Activity? activity)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = pipelineEvent.Shape switch
            {
                PipelineEventShape.Mlflow => MlflowType,
                PipelineEventShape.DeltaOne => DeltaOneType,
                _ => GuideType,
            },
            Timestamp = new AmqpTimestamp(pipelineEvent.ReceivedAt.ToUnixTimeSeconds()),
        };
        if (Fits(pipelineEvent.IdempotencyKey))
        {
            properties.MessageId = pipelineEvent.IdempotencyKey;
        }
        else
        {
            (properties.Headers ??= new Dictionary<string, object?>(1))[IdempotencyKeyHeader] = pipelineEvent.IdempotencyKey;
        }

        if (Fits(pipelineEvent.EventType))
        {
            properties.Type = pipelineEvent.EventType;
        }
        else
        {
            (properties.Headers ??= new Dictionary<string, object?>(1))[EventTypeHeader] = pipelineEvent.EventType;
        }

        // Only a trace that is recorded (sampled here, or by the caller whose traceparent the span continues): ASP.NET
        // Core starts an unrecorded activity for every request, and its random trace id would be a header on every message.
        if (activity is { Recorded: true, Id: { } id, IdFormat: ActivityIdFormat.W3C })
        {
            var headers = properties.Headers ??= new Dictionary<string, object?>(2);
            headers[TraceParent] = id;
            if (activity.TraceStateString is { Length: > 0 } state)
            {
                headers[TraceState] = state;
            }
        }

        return properties;
    }

    /// <summary>
    /// The event <paramref name="body"/> and its <paramref name="properties"/> carry, in this form or an earlier host's.
    /// </summary>
    /// <exception cref="System.Runtime.Serialization.SerializationException">A property or header is missing or unreadable; the message names it.</exception>
    public static PipelineEvent Read(byte[] body, IReadOnlyBasicProperties properties)
    {
        string? Header(string name) => HeaderText(properties.Headers, name);
        var shapeName = Header(ShapeHeader) ?? ShapeOf(properties.ContentType);
        var shape = shapeName switch
        {
            "guide" => PipelineEventShape.Guide,
            "mlflow" => PipelineEventShape.Mlflow,
            "deltaone" => PipelineEventShape.DeltaOne,
            null => throw Missing("shape parameter in its content type", "guide, mlflow or deltaone"),
            _ => throw Wrong("shape (its content type's parameter)", shapeName, "guide, mlflow or deltaone"),
        };
        var eventType = Header(EventTypeHeader) ?? Text(properties.Type) ?? throw Missing("type property", "the event's type");
        var key = Header(IdempotencyKeyHeader) ?? Text(properties.MessageId) ?? throw Missing("message_id property", "the event's idempotency key");
        DateTimeOffset receivedAt;
        if (Header(ReceivedAtHeader) is { } at)
        {
            receivedAt = DateTimeOffset.TryParseExact(at, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
                ? parsed
                : throw Wrong($"{ReceivedAtHeader} header", at, "an ISO 8601 time");
        }
        else if (!properties.IsTimestampPresent())
        {
            throw Missing("timestamp property", "when the host received the event");
        }
        else
        {
            var seconds = properties.Timestamp.UnixTime;
            receivedAt = seconds >= FirstSecond && seconds <= LastSecond
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : throw Wrong("timestamp property", seconds.ToString(CultureInfo.InvariantCulture), "a time from the year 1 to 9999");
        }

        var pipelineEvent = new PipelineEvent
        {
            EventType = eventType, Shape = shape, Body = body, IdempotencyKey = key, ReceivedAt = receivedAt,
        };
        return pipelineEvent with { ModelId = Header(ModelIdHeader) ?? ModelOf(pipelineEvent) };
    }

    /// <summary><c>guide</c>, <c>mlflow</c> or <c>deltaone</c>: how the content type, the host's metrics and its logs name a shape.</summary>
    public static string ShapeName(PipelineEventShape shape) => shape switch
    {
        PipelineEventShape.Mlflow => "mlflow",
        PipelineEventShape.DeltaOne => "deltaone",
        _ => "guide",
    };

    /// <summary>A header's value as text (RabbitMQ.Client gives a string header as UTF-8 bytes), or null when absent or empty.</summary>
    public static string? HeaderText(IDictionary<string, object?>? headers, string name) =>
        headers?.TryGetValue(name, out var value) == true
            ? Text(value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), _ => value?.ToString() })
            : null;

    /// <summary>The model the body names, read as the endpoint reads it to deliver: a registration's, or a DeltaOne event's <c>model_id</c>.</summary>
    private static string? ModelOf(PipelineEvent pipelineEvent)
    {
        if (pipelineEvent.Shape == PipelineEventShape.DeltaOne)
        {
            return DeltaOneEventKey.Identify(pipelineEvent.EventType, pipelineEvent.Body).ModelId;
        }

        try
        {
            return pipelineEvent.ToRegistration().ModelId;
        }
        catch (InvalidModelRegistrationException)
        {
            return null; // its delivery fails with the reason, naming the field
        }
    }

    private static string? ShapeOf(string? contentType)
    {
        try
        {
            return contentType is null ? null : new ContentType(contentType).Parameters[ShapeParameter];
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool Fits(string value) => value.Length <= ShortString / 3 || Encoding.UTF8.GetByteCount(value) <= ShortString;

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static System.Runtime.Serialization.SerializationException Missing(string what, string expected) =>
        new($"The {MediaType} message has no {what}: it must be {expected}.");

    private static System.Runtime.Serialization.SerializationException Wrong(string what, string value, string expected) =>
        new($"The {MediaType} message's {what} is '{SafeText.Of(value, 60)}': it must be {expected}.");
}
