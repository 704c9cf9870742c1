using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using RabbitMQ.Client;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// Which dead letters <c>replay</c> moves: every one whose idempotency key, model id and failure time match all the
/// criteria given (<c>--key</c>, <c>--model-id</c>, <c>--since</c>), at most <c>--limit</c> of them.
/// </summary>
internal sealed record DeadLetterSelection(string? Key, string? ModelId, DateTimeOffset? Since, int? Limit)
{
    /// <summary>Whether any criterion was given: without one, replay moves the whole queue.</summary>
    public bool Selective => Key is not null || ModelId is not null || Since is not null || Limit is not null;

    /// <summary>
    /// Whether the message with this body and these <paramref name="field"/>s (<c>MT-Fault-Timestamp</c> among them) is
    /// selected (the limit aside).
    /// </summary>
    public bool Matches(byte[] payload, Func<string, string?> field)
    {
        var (key, modelId) = Identify(payload, field);
        var failedAt = field("MT-Fault-Timestamp");
        return (Key is null || string.Equals(Key, key, StringComparison.Ordinal))
            && (ModelId is null || string.Equals(ModelId, modelId, StringComparison.Ordinal))
            && (Since is null || (DateTimeOffset.TryParse(failedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at >= Since));
    }

    /// <summary>The AMQP properties a dead letter is described by, by their names in the management API.</summary>
    public const string MessageId = "message_id", Type = "type", ContentType = "content_type";

    /// <summary>A message's fields: <see cref="MessageId"/>, <see cref="Type"/> and <see cref="ContentType"/>, else its headers.</summary>
    public static Func<string, string?> Fields(IReadOnlyBasicProperties properties) => name => name switch
    {
        MessageId => properties.MessageId,
        Type => properties.Type,
        ContentType => properties.ContentType,
        _ => BarePipelineEvent.HeaderText(properties.Headers, name),
    };

    /// <summary>
    /// The key (the payload's, or the one the host derives) and model id of a raw or MassTransit-enveloped registration,
    /// or of a <see cref="PipelineEvent"/> from the host's <c>/ingest</c> (its key, and the <c>model_id</c>, or
    /// <c>model.id</c>, of the body it carries), in MassTransit's envelope or as the host publishes it
    /// (<see cref="BarePipelineEvent"/>: its key and type in properties, or in an earlier host's headers).
    /// <paramref name="field"/> gives a header, or a property by its name in the management API.
    /// </summary>
    public static (string? Key, string? ModelId) Identify(byte[] payload, Func<string, string?> field)
    {
        var (key, modelId, _) = Describe(payload, field);
        return (key, modelId);
    }

    /// <summary><see cref="Identify"/>, with the event type: a <see cref="PipelineEvent"/>'s, else <c>model_registered</c>.</summary>
    public static (string? Key, string? ModelId, string EventType) Describe(byte[] payload, Func<string, string?> field)
    {
        // The host's form (the key in message_id), or an earlier host's, or a key too long for message_id (in headers).
        var headerKey = Text(field(BarePipelineEvent.IdempotencyKeyHeader));
        if (headerKey is not null || field(ContentType)?.StartsWith(BarePipelineEvent.MediaType, StringComparison.OrdinalIgnoreCase) == true)
        {
            return (headerKey ?? Text(field(MessageId)), field(BarePipelineEvent.ModelIdHeader) ?? ModelIn(payload),
                field(BarePipelineEvent.EventTypeHeader) ?? Text(field(Type)) ?? PipelineEvent.ModelRegisteredType);
        }

        try
        {
            var root = JsonNode.Parse(payload) as JsonObject;
            var body = root?["message"] as JsonObject ?? root;
            if (body is null)
            {
                return (null, null, PipelineEvent.ModelRegisteredType);
            }

            if (body["eventType"] is JsonValue eventType && body["idempotencyKey"] is JsonValue eventKey && body["body"] is JsonValue carried)
            {
                return (eventKey.GetValue<string>(), ModelIn(Convert.FromBase64String(carried.GetValue<string>())), eventType.GetValue<string>());
            }

            var registration = ModelRegisteredJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
            var key = string.IsNullOrWhiteSpace(registration.IdempotencyKey) && string.IsNullOrWhiteSpace(registration.ModelId)
                ? null
                : IdempotencyKey.For(registration);
            return (key, string.IsNullOrWhiteSpace(registration.ModelId) ? null : registration.ModelId, PipelineEvent.ModelRegisteredType);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException
                                       or ArgumentException or FormatException)
        {
            // Not a valid registration (it may be why it is a dead letter): still name what its body says it is.
            var (key, modelId) = Loosely(payload);
            return (key, modelId, PipelineEvent.ModelRegisteredType);
        }
    }

    /// <summary>The <c>model_id</c>, or <c>model.id</c>, of an event's body, when it is a JSON string.</summary>
    private static string? ModelIn(byte[] body)
    {
        try
        {
            var received = JsonNode.Parse(body) as JsonObject;
            var model = received?["model_id"] ?? received?["model"]?["id"];
            return model is JsonValue value && value.TryGetValue<string>(out var id) ? id : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The body's own <c>idempotency_key</c> and <c>model_id</c>, read as plain JSON strings, or nulls.</summary>
    private static (string? Key, string? ModelId) Loosely(byte[] payload)
    {
        try
        {
            var root = JsonNode.Parse(payload) as JsonObject;
            var body = root?["message"] as JsonObject ?? root;
            static string? Text(JsonNode? node) =>
                node is JsonValue value && value.TryGetValue<string>(out var text) && !string.IsNullOrWhiteSpace(text) ? text : null;
            return (Text(body?["idempotency_key"]), Text(body?["model_id"]));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return (null, null);
        }
    }
}
