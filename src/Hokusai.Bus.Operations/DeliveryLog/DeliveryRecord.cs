using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>What one record of the delivery log says happened.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeliveryRecordKind>))]
public enum DeliveryRecordKind
{
    /// <summary><c>POST /ingest</c> accepted the event (202 after RabbitMQ's confirm).</summary>
    Accepted,

    /// <summary>The endpoint's event types or filter left it out: acknowledged without a request.</summary>
    Filtered,

    /// <summary>One HTTP attempt ended.</summary>
    Attempt,

    /// <summary>A retry is due at <see cref="DeliveryRecord.NextAt"/>.</summary>
    RetryScheduled,

    /// <summary>Handed to RabbitMQ to wait in a delay queue until <see cref="DeliveryRecord.NextAt"/>.</summary>
    Deferred,

    /// <summary>
    /// The endpoint accepted it (2xx). The host stores the accepted attempt in this record (<see cref="DeliveryRecord.Attempt"/>,
    /// status, outcome, latency, trial) rather than in one of its own, and <see cref="DeliveryRecord.AllIn"/> reads it back
    /// as the two: the log holds one record for a delivery accepted at its first attempt, not two.
    /// </summary>
    Delivered,

    /// <summary>Moved to the endpoint's <c>_error</c> queue, with <see cref="DeliveryRecord.Reason"/>.</summary>
    Failed,

    /// <summary>Replayed from <c>_error</c> (<c>hokusai-bus dead-letters replay</c>).</summary>
    Replayed,
}

/// <summary>
/// One record of the delivery log: one decision about one delivery, with what identifies it. It never holds a body, a
/// secret or a URL; reasons are the sanitized ones the logs show.
/// </summary>
public sealed record DeliveryRecord
{
    [JsonPropertyName("kind")]
    public DeliveryRecordKind Kind { get; init; }

    /// <summary>When it happened.</summary>
    [JsonPropertyName("at")]
    public DateTimeOffset At { get; init; }

    /// <summary>The idempotency key: one registration or event, across attempts, hosts and replays.</summary>
    [JsonPropertyName("key")]
    public string Key { get; init; } = "";

    /// <summary>The model id (a registration's), or the DeltaOne event's <c>model_id</c>; null when unknown.</summary>
    [JsonPropertyName("model_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ModelId { get; init; }

    /// <summary><c>model_registered</c> or a <c>deltaone.*</c> type.</summary>
    [JsonPropertyName("event_type")]
    public string EventType { get; init; } = "model_registered";

    /// <summary>The endpoint's name (<c>default</c> or a named one); empty for what happens before one (accepted at ingest).</summary>
    [JsonPropertyName("endpoint")]
    public string Endpoint { get; init; } = "";

    /// <summary>The host (process) that recorded it.</summary>
    [JsonPropertyName("host")]
    public string Host { get; init; } = "";

    /// <summary>The request's number, for an attempt.</summary>
    [JsonPropertyName("attempt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Attempt { get; init; }

    /// <summary>The HTTP status of an attempt; null for a time-out or connection error.</summary>
    [JsonPropertyName("status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Status { get; init; }

    /// <summary>How an attempt ended, e.g. <c>HTTP 500 (InternalServerError)</c>, <c>timed out after 30 s</c>.</summary>
    [JsonPropertyName("outcome")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Outcome { get; init; }

    /// <summary>How long an attempt took, in milliseconds.</summary>
    [JsonPropertyName("latency_ms")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LatencyMs { get; init; }

    /// <summary>Whether an attempt was the circuit breaker's trial.</summary>
    [JsonPropertyName("trial")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Trial { get; init; }

    /// <summary>When the next try is due: a retry's time, or the end of a wait in RabbitMQ.</summary>
    [JsonPropertyName("next_at")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? NextAt { get; init; }

    /// <summary>Why: the filter rule, the last failure, the reason for <c>_error</c>.</summary>
    [JsonPropertyName("reason")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    /// <summary>Attempts counted, for an outcome.</summary>
    [JsonPropertyName("attempts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Attempts { get; init; }

    /// <summary>The record as the stream stores it: compact UTF-8 JSON, one line.</summary>
    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, DeliveryRecordJson.Default.DeliveryRecord);

    /// <summary>Writes the record as one line of compact JSON (no newline) to <paramref name="writer"/>.</summary>
    public void WriteTo(Utf8JsonWriter writer) => JsonSerializer.Serialize(writer, this, DeliveryRecordJson.Default.DeliveryRecord);

    /// <summary>A record the stream stored, or null for one that is not a record (a reader's end marker, say).</summary>
    public static DeliveryRecord? FromUtf8(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, DeliveryRecordJson.Default.DeliveryRecord) is { Key.Length: > 0 } record ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every record in one stream message: the writer stores a batch as lines of JSON (one record each, newline between),
    /// so a batch costs the broker one message; a message of one record is a batch of one. A delivered record that holds
    /// its accepted attempt is read as that attempt followed by the outcome.
    /// </summary>
    public static IEnumerable<DeliveryRecord> AllIn(ReadOnlyMemory<byte> message)
    {
        var rest = message;
        while (rest.Length > 0)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.Length > 0 && FromUtf8(line.Span) is { } record)
            {
                if (record is { Kind: DeliveryRecordKind.Delivered, Attempt: not null })
                {
                    // The accepted attempt, stored in its outcome's record: read back as the attempt, then the outcome.
                    yield return record with { Kind = DeliveryRecordKind.Attempt, Attempts = null };
                    record = record with { Attempt = null, Status = null, Outcome = null, LatencyMs = null, Trial = null };
                }

                yield return record;
            }
        }
    }
}

/// <summary>The source-generated serializer of <see cref="DeliveryRecord"/>: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DeliveryRecord))]
internal sealed partial class DeliveryRecordJson : JsonSerializerContext;
