using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The <c>metadata</c> object of a registration. The named fields are the guide's; any other key
/// (the guide's test payload sends <c>"test": true</c>) is kept in <see cref="Extra"/> and written back unchanged.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>Human-readable model name, e.g. <c>sentiment-analyzer</c>.</summary>
    [JsonPropertyName("model_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? ModelName { get; init; }

    /// <summary>The MLflow run that produced the model.</summary>
    [JsonPropertyName("mlflow_run_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? MlflowRunId { get; init; }

    /// <summary>The contributor's wallet address. Passed through as given, never checked.</summary>
    [JsonPropertyName("contributor_address")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? ContributorAddress { get; init; }

    /// <summary>The MLflow experiment name.</summary>
    [JsonPropertyName("experiment_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? ExperimentName { get; init; }

    /// <summary>Free-form tags, name to value.</summary>
    [JsonPropertyName("tags")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(LenientTagsConverter))]
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Every other key of the metadata object, kept as raw JSON so that a round trip loses nothing.</summary>
    [JsonExtensionData]
    // A setter, not init: System.Text.Json source generation cannot bind extension data through init.
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
