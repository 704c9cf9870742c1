using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>
/// The legacy pipeline's Redis wire format (its <c>RedisPublisher</c> and <c>ModelReadyToDeployMessage</c>), which the
/// old Redis consumers read: the list gets an envelope
/// <c>{"message_id", "message_type": "model_ready_to_deploy", "payload", "timestamp", "retry_count": 0, "max_retries": 3}</c>,
/// the channel gets the payload alone. The payload is built from the registration by inverting the legacy webhook
/// publisher's mapping: <c>metric_name</c> is the first key of <c>baseline_metrics</c> and <c>baseline_value</c> its value,
/// <c>current_value</c> is <c>baseline_value × (1 + improvement_percentage / 100)</c> when
/// <c>metadata.improvement_percentage</c> is given, else <c>metadata.current_value</c>, else <c>baseline_value</c>;
/// <c>metadata.metric_name</c>, <c>metadata.baseline_value</c> and <c>metadata.current_value</c> win when a producer sets
/// them. Timestamps are ISO 8601 without <c>Z</c> (Python's <c>datetime.isoformat()</c> of a naive UTC time), which
/// <c>datetime.fromisoformat</c> reads on every Python version.
/// </summary>
internal static class LegacyRedisMessage
{
    public const string MessageType = "model_ready_to_deploy";
    public const string MessageVersion = "1.0";
    public const int MaxRetries = 3;

    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The list entry (envelope) and the channel message (payload alone) of <paramref name="message"/>.</summary>
    /// <param name="message">A validated registration with its idempotency key filled in.</param>
    public static (byte[] Envelope, byte[] Payload) Of(ModelRegistered message)
    {
        var payload = Payload(message);
        var envelope = new ArrayBufferWriter<byte>(payload.Length + 160);
        using (var writer = new Utf8JsonWriter(envelope, Compact))
        {
            writer.WriteStartObject();
            // The idempotency key: stable across redeliveries, so a consumer can de-duplicate by it.
            writer.WriteString("message_id", message.IdempotencyKey);
            writer.WriteString("message_type", MessageType);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(payload, skipInputValidation: true);
            writer.WriteString("timestamp", PythonIsoFormat(message.Timestamp));
            writer.WriteNumber("retry_count", 0);
            writer.WriteNumber("max_retries", MaxRetries);
            writer.WriteEndObject();
        }

        return (envelope.WrittenSpan.ToArray(), payload);
    }

    /// <summary>Python's <c>datetime.isoformat()</c> of the UTC time: microseconds only when not zero, no offset.</summary>
    public static string PythonIsoFormat(DateTimeOffset timestamp) => MlflowEvent.FormatTimestamp(timestamp).TrimEnd('Z');

    private static byte[] Payload(ModelRegistered message)
    {
        var metadata = message.Metadata;
        var extra = metadata.Extra;
        var (metricName, baseline, current, improvement) = RegistrationMetric.Of(message);
        // The legacy publisher sent the baseline itself as the current value when it had no other (0 % improvement).
        if (current is null)
        {
            current = baseline;
            improvement ??= RegistrationMetric.ImprovementOf(baseline, current);
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Compact))
        {
            writer.WriteStartObject();
            writer.WriteString("model_id", message.ModelId);
            writer.WriteString("token_symbol", message.TokenSymbol);
            WriteStringOrNull(writer, "metric_name", metricName);
            WriteNumberOrNull(writer, "baseline_value", baseline);
            WriteNumberOrNull(writer, "current_value", current);
            WriteStringOrNull(writer, "model_name", message.Metadata.ModelName);
            writer.WriteString("model_version", message.RegisteredVersion);
            WriteStringOrNull(writer, "mlflow_run_id", message.Metadata.MlflowRunId);
            writer.WriteString("status", metadata.Status ?? "registered");
            writer.WriteString("proposal_identifier", Text(extra, "proposal_identifier") ?? message.TokenSymbol);
            WriteNumberOrNull(writer, "improvement_percentage", improvement);
            WriteStringOrNull(writer, "contributor_address", message.Metadata.ContributorAddress);
            WriteStringOrNull(writer, "experiment_name", message.Metadata.ExperimentName);
            writer.WritePropertyName("tags");
            if (message.Metadata.Tags is { } tags)
            {
                writer.WriteStartObject();
                foreach (var (name, value) in tags)
                {
                    writer.WriteString(name, value);
                }

                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WritePropertyName("api_schema");
            if (metadata.ApiSchema is { } schema)
            {
                schema.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }

            WriteStringOrNull(writer, "eval_spec", metadata.EvalSpec);
            WriteStringOrNull(writer, "scorer_ref", metadata.ScorerRef);
            WriteStringOrNull(writer, "primary_metric", metadata.PrimaryMetric);
            WriteStringOrNull(writer, "benchmark_spec_id", metadata.BenchmarkSpecId);

            writer.WriteString("timestamp", PythonIsoFormat(message.Timestamp));
            writer.WriteString("message_version", MessageVersion);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string? Text(Dictionary<string, JsonElement>? extra, string name) =>
        extra is not null && extra.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
