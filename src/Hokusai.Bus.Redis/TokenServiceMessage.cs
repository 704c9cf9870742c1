using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>
/// The bare message the token service's Redis consumer reads from <c>hokusai:model_ready_queue</c>
/// (<c>REDIS_MESSAGE_FORMAT=token-service</c>): no envelope; required <c>model_id</c>, <c>token_symbol</c>
/// (<c>^[A-Z0-9-]{1,10}$</c>), <c>metric_name</c>, <c>baseline_value</c> &gt; 0, <c>current_value</c> &gt; 0,
/// <c>model_name</c>, <c>model_version</c>, <c>mlflow_run_id</c>, <c>improvement_percentage</c> &gt; 0, <c>timestamp</c>,
/// <c>message_version</c> <c>"1.0"</c>; optional <c>contributor_address</c> and <c>model_supplier_recipient</c>
/// (<c>0x</c> + 40 hex), <c>experiment_name</c>, <c>tags</c> (string values); no other key, no empty string (its Joi
/// schema in <c>services/contract-deployer/src/schemas/message-schemas.ts</c>). A registration that cannot meet
/// those rules without invented data is refused, every broken rule named, and goes to the fallback's <c>_error</c>
/// instead of to the token service's dead-letter list.
/// </summary>
internal static partial class TokenServiceMessage
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex("^[A-Z0-9-]{1,10}$", RegexOptions.CultureInvariant)]
    private static partial Regex TokenSymbol();

    [GeneratedRegex("^0x[0-9a-fA-F]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    /// <summary>The message for <paramref name="message"/>, a validated registration with its key filled in.</summary>
    /// <exception cref="InvalidModelRegistrationException">It cannot meet the token service's rules; each broken one is named.</exception>
    public static byte[] Of(ModelRegistered message)
    {
        var metadata = message.Metadata;
        var errors = new List<string>();
        void Rule(bool holds, string problem)
        {
            if (!holds)
            {
                errors.Add(problem);
            }
        }

        // The MLflow event carries the symbol lowercased (model.id); the token service's symbols are uppercase.
        var symbol = message.TokenSymbol.ToUpperInvariant();
        Rule(TokenSymbol().IsMatch(symbol),
            $"token_symbol '{SafeText.Of(message.TokenSymbol, 20)}' cannot be the token service's token_symbol: uppercased it must match ^[A-Z0-9-]{{1,10}}$.");
        var (metricName, baseline, current, improvement) = RegistrationMetric.Of(message);
        Rule(metricName is { Length: > 0 }, "metric_name is required by the token service: set metadata.metric_name or baseline_metrics.");
        Rule(baseline is > 0, $"baseline_value must be greater than 0 for the token service (baseline_metrics.{SafeText.Of(metricName, 40)} or metadata.baseline_value); "
            + (baseline is null ? "there is none." : "it is " + baseline.Value.ToString(CultureInfo.InvariantCulture) + "."));
        Rule(current is > 0, "current_value must be greater than 0 for the token service: set metadata.current_value or metadata.improvement_percentage"
            + (current is null ? "; there is neither." : $"; it is {current.Value.ToString(CultureInfo.InvariantCulture)}."));
        Rule(baseline is not > 0 || current is not > 0 || improvement is > 0,
            $"improvement_percentage must be greater than 0 for the token service; it is {improvement?.ToString("0.####", CultureInfo.InvariantCulture)}.");
        Rule(metadata.ModelName is { Length: > 0 }, "model_name is required by the token service: set metadata.model_name.");
        Rule(metadata.MlflowRunId is { Length: > 0 }, "mlflow_run_id is required by the token service: set metadata.mlflow_run_id.");
        Rule(metadata.ContributorAddress is null || Address().IsMatch(metadata.ContributorAddress),
            $"contributor_address '{SafeText.Of(metadata.ContributorAddress, 50)}' must be 0x and 40 hex digits for the token service.");
        var supplier = Text(metadata.Extra, "model_supplier_recipient", errors);
        Rule(supplier is null || Address().IsMatch(supplier),
            $"model_supplier_recipient '{SafeText.Of(supplier, 50)}' must be 0x and 40 hex digits for the token service.");
        // The service's schema (Joi) refuses empty strings: an empty optional value is refused here, never dropped.
        Rule(metadata.ExperimentName is not "", "experiment_name must not be empty for the token service.");
        foreach (var (name, value) in metadata.Tags ?? new Dictionary<string, string>())
        {
            Rule(value.Length > 0, $"tags.{SafeText.Of(name, 40)} must not be empty for the token service.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidModelRegistrationException(errors);
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Compact))
        {
            writer.WriteStartObject();
            writer.WriteString("model_id", message.ModelId);
            writer.WriteString("token_symbol", symbol);
            writer.WriteString("metric_name", metricName);
            writer.WriteNumber("baseline_value", baseline!.Value);
            writer.WriteNumber("current_value", current!.Value);
            writer.WriteString("model_name", metadata.ModelName);
            writer.WriteString("model_version", message.RegisteredVersion);
            writer.WriteString("mlflow_run_id", metadata.MlflowRunId);
            writer.WriteNumber("improvement_percentage", improvement!.Value);
            writer.WriteString("timestamp", MlflowEvent.FormatTimestamp(message.Timestamp));
            writer.WriteString("message_version", LegacyRedisMessage.MessageVersion);
            if (metadata.ContributorAddress is { } address)
            {
                writer.WriteString("contributor_address", address);
            }

            if (supplier is not null)
            {
                writer.WriteString("model_supplier_recipient", supplier);
            }

            if (metadata.ExperimentName is { } experiment)
            {
                writer.WriteString("experiment_name", experiment);
            }

            if (metadata.Tags is { } tags)
            {
                writer.WriteStartObject("tags");
                foreach (var (name, value) in tags)
                {
                    writer.WriteString(name, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string? Text(Dictionary<string, JsonElement>? extra, string name, List<string> errors)
    {
        if (extra is null || !extra.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add($"metadata.{name} must be a string for the token service.");
            return null;
        }

        return value.GetString();
    }
}
