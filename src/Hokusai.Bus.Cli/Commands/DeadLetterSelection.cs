using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// Which dead letters <c>replay</c> moves: every one whose idempotency key, model id and failure time match all the
/// criteria given (<c>--key</c>, <c>--model-id</c>, <c>--since</c>), at most <c>--limit</c> of them.
/// </summary>
internal sealed record DeadLetterSelection(string? Key, string? ModelId, DateTimeOffset? Since, int? Limit)
{
    /// <summary>Whether any criterion was given: without one, replay moves the whole queue.</summary>
    public bool Selective => Key is not null || ModelId is not null || Since is not null || Limit is not null;

    /// <summary>Whether the message with this body and these headers (<c>MT-Fault-Timestamp</c> among them) is selected (the limit aside).</summary>
    public bool Matches(byte[] payload, Func<string, string?> header)
    {
        var (key, modelId) = Identify(payload, header);
        var failedAt = header("MT-Fault-Timestamp");
        return (Key is null || string.Equals(Key, key, StringComparison.Ordinal))
            && (ModelId is null || string.Equals(ModelId, modelId, StringComparison.Ordinal))
            && (Since is null || (DateTimeOffset.TryParse(failedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at >= Since));
    }

    /// <summary>
    /// The key (the payload's, or the one the host derives) and model id of a raw or MassTransit-enveloped registration,
    /// or of a <see cref="PipelineEvent"/> from the host's <c>/ingest</c> (its key, and the <c>model_id</c>, or
    /// <c>model.id</c>, of the body it carries), in MassTransit's envelope or as the host publishes it (its headers,
    /// <see cref="BarePipelineEvent"/>).
    /// </summary>
    public static (string? Key, string? ModelId) Identify(byte[] payload, Func<string, string?> header)
    {
        var (key, modelId, _) = Describe(payload, header);
        return (key, modelId);
    }

    /// <summary><see cref="Identify"/>, with the event type: a <see cref="PipelineEvent"/>'s, else <c>model_registered</c>.</summary>
    public static (string? Key, string? ModelId, string EventType) Describe(byte[] payload, Func<string, string?> header)
    {
        if (header(BarePipelineEvent.IdempotencyKeyHeader) is { Length: > 0 } bareKey)
        {
            return (bareKey, header(BarePipelineEvent.ModelIdHeader), header(BarePipelineEvent.EventTypeHeader) ?? PipelineEvent.ModelRegisteredType);
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
                var received = JsonNode.Parse(Convert.FromBase64String(carried.GetValue<string>())) as JsonObject;
                var model = received?["model_id"] ?? received?["model"]?["id"];
                return (eventKey.GetValue<string>(), model is JsonValue value && value.TryGetValue<string>(out var id) ? id : null,
                    eventType.GetValue<string>());
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
