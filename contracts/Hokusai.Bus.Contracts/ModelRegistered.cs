using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// A model was registered and met its baseline. This is both the message on the bus and, serialized by
/// <see cref="ModelRegisteredJson"/>, the webhook body. Its full name, <c>Hokusai.Bus.Contracts.ModelRegistered</c>,
/// is its identity on RabbitMQ (exchange <c>Hokusai.Bus.Contracts:ModelRegistered</c>): never rename or move it.
/// </summary>
/// <remarks>
/// A key missing from the JSON reads as empty, never as null: the source-generated serializer passes null for absent
/// init-only properties, so each setter turns null back into the empty default.
/// </remarks>
public sealed record ModelRegistered
{
    /// <summary>The registered model's id, e.g. <c>model_abc123</c>. Required.</summary>
    [JsonPropertyName("model_id")]
    public string ModelId { get; init => field = value ?? ""; } = "";

    /// <summary>
    /// Stable for one registration: receivers de-duplicate by it. When the producer leaves it empty,
    /// <see cref="IdempotencyKey.Derive"/> fills it from the registration's identity.
    /// </summary>
    [JsonPropertyName("idempotency_key")]
    public string IdempotencyKey { get; init => field = value ?? ""; } = "";

    /// <summary>The model registry version, e.g. <c>"1"</c>. Required.</summary>
    [JsonPropertyName("registered_version")]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string RegisteredVersion { get; init => field = value ?? ""; } = "";

    /// <summary>When the model was registered; written as ISO 8601 UTC with <c>Z</c>. Required.</summary>
    [JsonPropertyName("timestamp")]
    [JsonConverter(typeof(UtcTimestampConverter))]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The model's token symbol, 1 to 64 characters, e.g. <c>TOKEN_ABC</c>. Required.</summary>
    [JsonPropertyName("token_symbol")]
    public string TokenSymbol { get; init => field = value ?? ""; } = "";

    /// <summary>Metric name to value, e.g. <c>accuracy: 0.85</c>.</summary>
    [JsonPropertyName("baseline_metrics")]
    public IReadOnlyDictionary<string, double> BaselineMetrics { get; init => field = value ?? EmptyMetrics; } = EmptyMetrics;

    /// <summary>Descriptive fields. Never validated: delivery does not fail on metadata formats.</summary>
    [JsonPropertyName("metadata")]
    public ModelMetadata Metadata { get; init => field = value ?? new(); } = new();

    /// <summary>Any other top-level key a producer sent, kept as raw JSON and delivered unchanged.</summary>
    [JsonExtensionData]
    // A setter, not init: System.Text.Json source generation cannot bind extension data through init.
    public Dictionary<string, JsonElement>? Extra { get; set; }

    private static readonly IReadOnlyDictionary<string, double> EmptyMetrics = new Dictionary<string, double>();
}
