using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The <c>metadata</c> object of a registration. The first five named fields are the guide's; the rest carry what the
/// pipeline's MLflow event and the token service read. Any other key (the guide's test payload sends
/// <c>"test": true</c>) is kept in <see cref="Extra"/> and written back unchanged.
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

    /// <summary>The model's registry status, e.g. <c>registered</c> (the MLflow event's <c>model.status</c>).</summary>
    [JsonPropertyName("status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? Status { get; init; }

    /// <summary>Who registered the model (the MLflow event's <c>model.user_id</c>; the pipeline takes it from tags).</summary>
    [JsonPropertyName("user_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? UserId { get; init; }

    /// <summary>The model's API schema, any JSON, kept exactly as received (objects keep their key order).</summary>
    [JsonPropertyName("api_schema")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? ApiSchema { get; init; }

    /// <summary>The evaluation spec, e.g. <c>technical_task_router/v1</c>.</summary>
    [JsonPropertyName("eval_spec")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? EvalSpec { get; init; }

    /// <summary>The scorer reference, e.g. <c>s/v1</c>.</summary>
    [JsonPropertyName("scorer_ref")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? ScorerRef { get; init; }

    /// <summary>The metric the model is judged on, e.g. <c>success</c>.</summary>
    [JsonPropertyName("primary_metric")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? PrimaryMetric { get; init; }

    /// <summary>The benchmark spec's id, e.g. <c>b/v1</c>.</summary>
    [JsonPropertyName("benchmark_spec_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? BenchmarkSpecId { get; init; }

    /// <summary>The metric that met its baseline (the token service's <c>metric_name</c>); else the first of <c>baseline_metrics</c>.</summary>
    [JsonPropertyName("metric_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? MetricName { get; init; }

    /// <summary>The metric's value for this model (the token service's <c>current_value</c>). A number, or a numeric string.</summary>
    [JsonPropertyName("current_value")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(LenientNumberConverter))]
    public double? CurrentValue { get; init; }

    /// <summary>How far <see cref="CurrentValue"/> beats the baseline, in percent (the token service's <c>improvement_percentage</c>).</summary>
    [JsonPropertyName("improvement_percentage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(LenientNumberConverter))]
    public double? ImprovementPercentage { get; init; }

    /// <summary>Every other key of the metadata object, kept as raw JSON so that a round trip loses nothing.</summary>
    [JsonExtensionData]
    // A setter, not init: System.Text.Json source generation cannot bind extension data through init.
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
