using System.Globalization;
using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>
/// The metric a registration met its baseline on, as the Redis formats carry it: <c>metric_name</c> is
/// <c>metadata.metric_name</c>, else the first key of <c>baseline_metrics</c>; <c>baseline_value</c> is
/// <c>metadata.baseline_value</c>, else that metric's baseline; <c>current_value</c> is <c>metadata.current_value</c>,
/// else <c>baseline × (1 + improvement_percentage / 100)</c>; <c>improvement_percentage</c> is given, else derived from
/// the two values. Null where the registration does not say and nothing can be derived.
/// </summary>
internal readonly record struct RegistrationMetric(string? Name, double? Baseline, double? Current, double? Improvement)
{
    public static RegistrationMetric Of(ModelRegistered message)
    {
        var metadata = message.Metadata;
        var name = metadata.MetricName ?? message.BaselineMetrics.Keys.FirstOrDefault();
        var baseline = Number(metadata.Extra, "baseline_value")
                       ?? (name is not null && message.BaselineMetrics.TryGetValue(name, out var b) ? b : null);
        var improvement = metadata.ImprovementPercentage;
        var current = metadata.CurrentValue ?? (improvement is { } given && baseline is { } bv ? bv * (1 + given / 100) : null);
        return new RegistrationMetric(name, baseline, current, improvement ?? ImprovementOf(baseline, current));
    }

    /// <summary><c>(current - baseline) / baseline × 100</c>, or null when it cannot be computed.</summary>
    public static double? ImprovementOf(double? baseline, double? current) =>
        baseline is > 0 && current is { } c ? (c - baseline.Value) / baseline.Value * 100 : null;

    /// <summary>A number given in <paramref name="extra"/> as a JSON number or a numeric string; null otherwise.</summary>
    private static double? Number(Dictionary<string, JsonElement>? extra, string name)
    {
        if (extra is null || !extra.TryGetValue(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
                                      && double.IsFinite(parsed) => parsed,
            _ => null,
        };
    }
}
