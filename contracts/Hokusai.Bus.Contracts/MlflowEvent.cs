using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The "original MLflow event" that the Hokusai pipeline's <c>WebhookPublisher</c> has sent since 2026-04-30, and that
/// the Hokusai site reads:
/// <c>{"event_type":"model_registered","model":{"id","name","status","version","run_id"?,"user_id"?,"api_schema"?,
/// "eval_spec"?,"scorer_ref"?,"primary_metric"?,"benchmark_spec_id"?},"timestamp","source":"mlflow"}</c>, written
/// byte for byte as the pipeline writes it (Python's compact <c>json.dumps</c>, non-ASCII escaped, keys in that order,
/// optional keys left out when absent). The idempotency key is not in the body: it travels in
/// <c>X-Hokusai-Idempotency-Key</c> only.
/// </summary>
public static class MlflowEvent
{
    /// <summary>The only <c>event_type</c> that is a model registration.</summary>
    public const string ModelRegisteredType = "model_registered";

    /// <summary>The pipeline publisher's <c>User-Agent</c>.</summary>
    public const string UserAgent = "Hokusai-WebhookPublisher/1.0";

    /// <summary>The event of <paramref name="message"/>; see the class remarks and the mapping table of docs/INTEGRATION.md.</summary>
    public static byte[] Serialize(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var metadata = message.Metadata;
        var json = new PythonJsonWriter().StartObject()
            .String("event_type", ModelRegisteredType)
            .Name("model").StartObject()
            .String("id", message.TokenSymbol.ToLowerInvariant())
            .String("name", metadata.ModelName ?? message.ModelId)
            .String("status", metadata.Status ?? "registered")
            .String("version", message.RegisteredVersion)
            .StringIfPresent("run_id", metadata.MlflowRunId)
            .StringIfPresent("user_id", UserIdOf(metadata));
        if (metadata.ApiSchema is { ValueKind: not JsonValueKind.Null } schema)
        {
            json.Name("api_schema").Value(schema);
        }

        return json
            .StringIfPresent("eval_spec", metadata.EvalSpec)
            .StringIfPresent("scorer_ref", metadata.ScorerRef)
            .StringIfPresent("primary_metric", metadata.PrimaryMetric)
            .StringIfPresent("benchmark_spec_id", metadata.BenchmarkSpecId)
            .EndObject()
            .String("timestamp", FormatTimestamp(message.Timestamp))
            .String("source", "mlflow")
            .EndObject()
            .ToUtf8Bytes();
    }

    /// <summary>
    /// The pipeline's timestamp text: Python's <c>isoformat()</c> of the naive UTC time plus <c>Z</c>, so
    /// <c>2026-07-21T15:04:05.123456Z</c>, or <c>2026-07-21T15:04:05Z</c> when the microseconds are 0.
    /// </summary>
    public static string FormatTimestamp(DateTimeOffset timestamp)
    {
        var utc = timestamp.UtcDateTime;
        var microseconds = utc.Ticks % TimeSpan.TicksPerSecond / 10;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return microseconds == 0 ? text + "Z" : text + "." + microseconds.ToString("D6", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>
    /// Reads an event as a registration: <c>model.id</c> is both <c>model_id</c> and <c>token_symbol</c> (the event
    /// carries nothing else), <c>model.version</c> the <c>registered_version</c>, the rest goes to <c>metadata</c>.
    /// Every field but <c>model.api_schema</c> is a string, as the pipeline always writes it: a number there
    /// (<c>"version": 3</c>) is the wrong JSON type, not read as its text.
    /// Never throws for a bad body: <paramref name="error"/> names the field at fault, with no value that could forge a
    /// log line.
    /// </summary>
    /// <param name="utf8Json">The body.</param>
    /// <param name="idempotencyKey">The <c>X-Hokusai-Idempotency-Key</c> it came with, if any.</param>
    /// <param name="message">The registration.</param>
    /// <param name="error">Why the body is not a registration event.</param>
    public static bool TryDeserialize(
        ReadOnlySpan<byte> utf8Json, string? idempotencyKey,
        [NotNullWhen(true)] out ModelRegistered? message, [NotNullWhen(false)] out string? error) =>
        TryDeserialize(utf8Json, idempotencyKey, numbersAsText: false, out message, out error);

    /// <summary>
    /// The public <c>TryDeserialize</c>; with
    /// <paramref name="numbersAsText"/> a number in a string field is read as its text, as hosts before issue 34 accepted
    /// it at <c>/ingest</c>: for events already on the bus, never for a request.
    /// </summary>
    internal static bool TryDeserialize(
        ReadOnlySpan<byte> utf8Json, string? idempotencyKey, bool numbersAsText,
        [NotNullWhen(true)] out ModelRegistered? message, [NotNullWhen(false)] out string? error)
    {
        message = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            error = "The body is not valid JSON: " + SafeText.Of(e.Message, 200);
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The body must be a JSON object (an MLflow event).";
                return false;
            }

            var fields = new Fields(root, numbersAsText);
            var eventType = fields.Text("event_type", required: true);
            if (fields.Error is null && eventType != ModelRegisteredType)
            {
                error = $"event_type must be \"{ModelRegisteredType}\"; got '{SafeText.Of(eventType, 60)}'.";
                return false;
            }

            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            {
                error = fields.Error ?? "model is required: an object with id, name, status and version.";
                return false;
            }

            var of = new Fields(model, numbersAsText, "model.");
            var id = of.Text("id", required: true);
            var version = of.Text("version", required: true);
            var metadata = new ModelMetadata
            {
                ModelName = of.Text("name", required: true),
                Status = of.Text("status"),
                MlflowRunId = of.Text("run_id"),
                UserId = of.Text("user_id"),
                ApiSchema = model.TryGetProperty("api_schema", out var schema) && schema.ValueKind != JsonValueKind.Null
                    ? schema.Clone()
                    : null,
                EvalSpec = of.Text("eval_spec"),
                ScorerRef = of.Text("scorer_ref"),
                PrimaryMetric = of.Text("primary_metric"),
                BenchmarkSpecId = of.Text("benchmark_spec_id"),
            };
            var timestampText = fields.Text("timestamp", required: true);
            error = fields.Error ?? of.Error;
            if (error is not null)
            {
                return false;
            }

            if (!UtcTimestampConverter.TryParse(timestampText, out var timestamp))
            {
                error = $"timestamp must be ISO 8601, e.g. \"2024-01-15T10:30:00Z\"; got '{SafeText.Of(timestampText, 40)}'.";
                return false;
            }

            message = new ModelRegistered
            {
                ModelId = id!,
                TokenSymbol = id!,
                RegisteredVersion = version!,
                Timestamp = timestamp,
                IdempotencyKey = idempotencyKey ?? "",
                Metadata = metadata,
            };
            return true;
        }
    }

    /// <summary>
    /// <c>metadata.user_id</c>, else tag <c>user_id</c>, else tag <c>fulfilled_by_user_id</c>; an empty value counts as
    /// absent and the key is left out, as the pipeline's <c>tags.get("user_id") or tags.get(...)</c> and <c>if user_id:</c> do.
    /// </summary>
    private static string? UserIdOf(ModelMetadata metadata)
    {
        if (metadata.UserId is { Length: > 0 } userId)
        {
            return userId;
        }

        var tags = metadata.Tags;
        return tags?.GetValueOrDefault("user_id") is { Length: > 0 } tagged ? tagged
            : tags?.GetValueOrDefault("fulfilled_by_user_id") is { Length: > 0 } fulfilled ? fulfilled
            : null;
    }

    /// <summary>Reads string fields of one object, keeping the first problem, worded with the field's path.</summary>
    private sealed class Fields(JsonElement owner, bool numbersAsText, string prefix = "")
    {
        public string? Error { get; private set; }

        public string? Text(string name, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (required)
                {
                    Error ??= $"{prefix}{name} is required.";
                }

                return null;
            }

            switch (value.ValueKind)
            {
                case JsonValueKind.String when !required || value.GetString() is { Length: > 0 }:
                    return value.GetString();
                case JsonValueKind.Number when numbersAsText:
                    return value.GetRawText();
                case JsonValueKind.String:
                    Error ??= $"{prefix}{name} is required.";
                    return null;
                default:
                    Error ??= $"{prefix}{name} has the wrong JSON type: it must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}.";
                    return null;
            }
        }
    }
}
