using System.Diagnostics;
using System.Globalization;
using System.Net.Mime;
using Hokusai.Bus.Contracts;
using MassTransit;
using RabbitMQ.Client;

namespace Hokusai.Bus;

/// <summary>
/// A <see cref="PipelineEvent"/> as the host's <c>/ingest</c> publishes it: the event's bytes as they were received,
/// as the message body, and the rest of the event in headers, with content type
/// <c>application/vnd.hokusai.pipeline-event+json</c>. It is the same event MassTransit's envelope carries (with
/// the body base64 inside it), without the envelope: MassTransit's publish alone cost about as much CPU as the whole
/// <c>/ingest</c> target allowed (docs/PERFORMANCE.md, "Against the floors"). Every webhook endpoint reads both forms
/// (<see cref="BarePipelineEventDeserializer"/>), so events still in a queue from an older host are delivered.
/// </summary>
internal static class BarePipelineEvent
{
    public const string MediaType = "application/vnd.hokusai.pipeline-event+json";

    public static readonly ContentType ContentType = new(MediaType);

    /// <summary><see cref="PipelineEvent.EventType"/>.</summary>
    public const string EventTypeHeader = "Hokusai-Event-Type";

    /// <summary><see cref="PipelineEvent.Shape"/>: <c>guide</c>, <c>mlflow</c> or <c>deltaone</c>.</summary>
    public const string ShapeHeader = "Hokusai-Event-Shape";

    /// <summary><see cref="PipelineEvent.IdempotencyKey"/>.</summary>
    public const string IdempotencyKeyHeader = "Hokusai-Idempotency-Key";

    /// <summary><see cref="PipelineEvent.ModelId"/>; absent when the event names no model.</summary>
    public const string ModelIdHeader = "Hokusai-Model-Id";

    /// <summary><see cref="PipelineEvent.ReceivedAt"/>, ISO 8601 with its offset.</summary>
    public const string ReceivedAtHeader = "Hokusai-Received-At";

    /// <summary>The W3C trace context of the span that published it, which the delivery's span continues.</summary>
    private const string TraceParent = "traceparent";

    private const string TraceState = "tracestate";

    /// <summary>
    /// The properties the message with <paramref name="pipelineEvent"/>'s body is published with: persistent, this
    /// content type, a fresh message id, and the headers that carry the event and the trace of <paramref name="activity"/>.
    /// </summary>
    public static BasicProperties Properties(PipelineEvent pipelineEvent, Activity? activity) => new()
    {
        Persistent = true,
        ContentType = MediaType,
        MessageId = NewId.NextGuid().ToString(),
        Headers = Headers(pipelineEvent, activity),
    };

    private static Dictionary<string, object?> Headers(PipelineEvent pipelineEvent, Activity? activity)
    {
        var headers = new Dictionary<string, object?>(7)
        {
            [EventTypeHeader] = pipelineEvent.EventType,
            [ShapeHeader] = ShapeName(pipelineEvent.Shape),
            [IdempotencyKeyHeader] = pipelineEvent.IdempotencyKey,
            [ReceivedAtHeader] = pipelineEvent.ReceivedAt.ToString("O", CultureInfo.InvariantCulture),
        };
        if (pipelineEvent.ModelId is { } modelId)
        {
            headers[ModelIdHeader] = modelId;
        }

        if (activity is { Id: { } id, IdFormat: ActivityIdFormat.W3C })
        {
            headers[TraceParent] = id;
            if (activity.TraceStateString is { Length: > 0 } state)
            {
                headers[TraceState] = state;
            }
        }

        return headers;
    }

    /// <summary>
    /// The event <paramref name="body"/> and <paramref name="header"/> carry.
    /// </summary>
    /// <exception cref="System.Runtime.Serialization.SerializationException">A header is missing or unreadable; the message names it.</exception>
    public static PipelineEvent Read(byte[] body, Func<string, string?> header)
    {
        var shape = header(ShapeHeader) switch
        {
            "guide" => PipelineEventShape.Guide,
            "mlflow" => PipelineEventShape.Mlflow,
            "deltaone" => PipelineEventShape.DeltaOne,
            var other => throw Bad(ShapeHeader, other, "guide, mlflow or deltaone"),
        };
        var eventType = header(EventTypeHeader) is { Length: > 0 } type ? type : throw Bad(EventTypeHeader, null, "the event's type");
        var key = header(IdempotencyKeyHeader) is { Length: > 0 } k ? k : throw Bad(IdempotencyKeyHeader, null, "the event's idempotency key");
        var receivedAt = DateTimeOffset.TryParseExact(header(ReceivedAtHeader), "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? at
            : throw Bad(ReceivedAtHeader, header(ReceivedAtHeader), "an ISO 8601 time");
        return new PipelineEvent
        {
            EventType = eventType, Shape = shape, Body = body, IdempotencyKey = key, ModelId = header(ModelIdHeader), ReceivedAt = receivedAt,
        };
    }

    /// <summary><c>guide</c>, <c>mlflow</c> or <c>deltaone</c>: how the header, the host's metrics and its logs name a shape.</summary>
    public static string ShapeName(PipelineEventShape shape) => shape switch
    {
        PipelineEventShape.Mlflow => "mlflow",
        PipelineEventShape.DeltaOne => "deltaone",
        _ => "guide",
    };

    private static System.Runtime.Serialization.SerializationException Bad(string name, string? value, string expected) =>
        new(value is null
            ? $"The {MediaType} message has no {name} header: it must be {expected}."
            : $"The {MediaType} message's {name} header is '{SafeText.Of(value, 60)}': it must be {expected}.");
}
