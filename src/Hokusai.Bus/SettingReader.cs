using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// Reads one setting from configuration: the guide's environment variable name first (<c>WEBHOOK_URL</c>), then the
/// section key (<c>Hokusai:Webhook:Url</c>). A value that does not parse is added to <c>errors</c> under the name it was
/// given by, so the validator can stop the host naming it; values of secrets are never repeated.
/// </summary>
internal sealed class SettingReader(IConfiguration configuration, string section, List<string> errors)
{
    public (string Name, string Value)? Read(string variable, string key)
    {
        if (configuration[variable] is { } value)
        {
            return (variable, value);
        }

        return configuration[$"{section}:{key}"] is { } sectionValue
            ? ($"{section.Replace(":", "__", StringComparison.Ordinal)}__{key}", sectionValue)
            : null;
    }

    public void String(string variable, string key, Action<string> set)
    {
        if (Read(variable, key) is { } setting)
        {
            set(setting.Value);
        }
    }

    public void Seconds(string variable, string key, Action<TimeSpan> set)
    {
        if (Read(variable, key) is not { } setting)
        {
            return;
        }

        if (!double.TryParse(setting.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds))
        {
            errors.Add($"{setting.Name} must be a number of seconds (e.g. 2 or 0.5); got '{Shown(setting.Value)}'.");
        }
        else if (seconds > 86_400)
        {
            errors.Add($"{setting.Name} must be at most 86400 seconds (a day); got {setting.Value.Trim()}.");
        }
        else
        {
            // Negative and tiny values are read as given, for the validator to name the limit they break.
            set(TimeSpan.FromSeconds(Math.Max(seconds, -86_400)));
        }
    }

    public void Integer(string variable, string key, Action<int> set)
    {
        if (Read(variable, key) is not { } setting)
        {
            return;
        }

        if (int.TryParse(setting.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            errors.Add($"{setting.Name} must be a whole number; got '{Shown(setting.Value)}'.");
        }
    }

    public void Flag(string variable, string key, Action<bool> set)
    {
        if (Read(variable, key) is not { } setting)
        {
            return;
        }

        if (TryParseFlag(setting.Value, out var flag))
        {
            set(flag);
        }
        else
        {
            errors.Add($"{setting.Name} must be true or false; got '{Shown(setting.Value)}'.");
        }
    }

    /// <summary>A value as it may be shown in an error: control characters escaped, cut to 40 characters.</summary>
    private static string Shown(string value) => Hokusai.Bus.Contracts.SafeText.Of(value, 40);

    /// <summary>True/false the way shells and Python programs write them.</summary>
    public static bool TryParseFlag(string value, out bool flag)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                flag = true;
                return true;
            case "false" or "0" or "no" or "off" or "":
                flag = false;
                return true;
            default:
                flag = false;
                return false;
        }
    }
}
