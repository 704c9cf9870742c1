using System.Globalization;

namespace Hokusai.Bus;

/// <summary>
/// How Hokusai settings are written, for hosts and tools that read them: one parser for flags and one for durations,
/// so <c>ENABLE_REDIS_FALLBACK=yes</c> means the same in the host, the CLI and the plugin.
/// </summary>
public static class SettingValues
{
    /// <summary>True/false the way shells and Python programs write them: true/false, 1/0, yes/no, on/off; empty is false.</summary>
    public static bool TryParseFlag(string? value, out bool flag)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                flag = true;
                return true;
            case "false" or "0" or "no" or "off" or "" or null:
                flag = false;
                return true;
            default:
                flag = false;
                return false;
        }
    }

    /// <summary>A duration in seconds, as the guide writes them (<c>30</c>, <c>0.5</c>); finite, invariant culture.</summary>
    public static bool TryParseSeconds(string? value, out double seconds) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && double.IsFinite(seconds);
}
