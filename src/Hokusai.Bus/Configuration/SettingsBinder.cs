using System.Globalization;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// The one binder of Hokusai settings, for the webhook options and the Redis fallback's: reads each key from a
/// configuration section, falling back to <paramref name="inherited"/> (a named endpoint inherits what it does not set
/// from <c>Hokusai:Webhook</c>), and parses it. A value that does not parse is recorded in <paramref name="errors"/>
/// under the member it was meant for, worded with the setting's name as the user gave it (<paramref name="names"/>), for
/// the validator to report with the rest; values are never repeated in full and secrets not at all.
/// </summary>
internal sealed class SettingsBinder(IConfigurationSection section, IConfigurationSection? inherited,
    HokusaiSettingNames names, IDictionary<string, string> errors)
{
    /// <summary>What <see cref="SecretOrFile"/> adds to a key to name the file that holds its value.</summary>
    public const string FileSuffix = "File";

    /// <summary>The name of <paramref name="key"/> of the section being bound, as messages show it.</summary>
    public string NameOf(string key) => names.Of($"{section.Path}:{key}");

    /// <summary>The value of <paramref name="key"/> and the name of the setting that gave it, or null when unset.</summary>
    public (string Name, string Value)? Read(string key)
    {
        if (section[key] is { } value)
        {
            return (NameOf(key), value);
        }

        return inherited?[key] is { } inheritedValue ? (names.Of($"{inherited.Path}:{key}"), inheritedValue) : null;
    }

    public void String(string key, Action<string> set)
    {
        if (Read(key) is { } setting)
        {
            set(setting.Value);
        }
    }

    /// <summary>
    /// A secret given as a value (<paramref name="key"/>) or as the path of a file that holds it (<paramref name="key"/>
    /// + <c>File</c>, the way Kestrel takes a certificate's path; for Docker and Kubernetes secrets): the section's own
    /// first, then the inherited one. Both keys in one section, or a file that cannot be read, is an error naming the
    /// keys and the path, never the content (<see cref="SettingValues.TryReadSecret"/>).
    /// </summary>
    public void SecretOrFile(string key, Action<string> set)
    {
        if (!SecretIn(section, key, set) && inherited is not null)
        {
            SecretIn(inherited, key, set);
        }
    }

    public void Seconds(string key, Action<TimeSpan> set)
    {
        if (Read(key) is not { } setting)
        {
            return;
        }

        if (!SettingValues.TryParseSeconds(setting.Value, out var seconds))
        {
            errors[key] = $"{setting.Name} must be a number of seconds (e.g. 2 or 0.5); got '{Shown(setting.Value)}'.";
        }
        else if (seconds > 86_400)
        {
            errors[key] = $"{setting.Name} must be at most 86400 seconds (a day); got {setting.Value.Trim()}.";
        }
        else
        {
            // Negative and tiny values are read as given, for the validator to name the limit they break.
            set(TimeSpan.FromSeconds(Math.Max(seconds, -86_400)));
        }
    }

    public void Integer(string key, Action<int> set)
    {
        if (Read(key) is not { } setting)
        {
            return;
        }

        if (int.TryParse(setting.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            errors[key] = $"{setting.Name} must be a whole number; got '{Shown(setting.Value)}'.";
        }
    }

    public void Flag(string key, Action<bool> set)
    {
        if (Read(key) is not { } setting)
        {
            return;
        }

        if (SettingValues.TryParseFlag(setting.Value, out var flag))
        {
            set(flag);
        }
        else
        {
            errors[key] = $"{setting.Name} must be true or false; got '{Shown(setting.Value)}'.";
        }
    }

    /// <summary>One of <paramref name="choices"/> (case-insensitive), or an error saying what is <paramref name="expected"/>.</summary>
    public void Choice<T>(string key, IReadOnlyDictionary<string, T> choices, string expected, Action<T> set)
    {
        if (Read(key) is not { } setting)
        {
            return;
        }

        if (choices.TryGetValue(setting.Value.Trim().ToLowerInvariant(), out var choice))
        {
            set(choice);
        }
        else
        {
            errors[key] = $"{setting.Name} must be {expected}; got '{Shown(setting.Value)}'.";
        }
    }

    /// <summary>Records that <paramref name="member"/> cannot be used, in words that already name the setting.</summary>
    public void Fail(string member, string message) => errors[member] = message;

    private bool SecretIn(IConfigurationSection from, string key, Action<string> set)
    {
        var value = from[key];
        var file = from[key + FileSuffix];
        if (value is null && string.IsNullOrEmpty(file))
        {
            return false;
        }

        var (name, fileName) = (names.Of($"{from.Path}:{key}"), names.Of($"{from.Path}:{key}{FileSuffix}"));
        if (SettingValues.TryReadSecret(name, value, fileName, file, out var secret, out var problem))
        {
            set(secret);
        }
        else
        {
            errors[key] = problem;
        }

        return true;
    }

    /// <summary>A value as it may be shown in an error: control characters escaped, cut to 40 characters.</summary>
    private static string Shown(string value) => SafeText.Of(value, 40);
}
