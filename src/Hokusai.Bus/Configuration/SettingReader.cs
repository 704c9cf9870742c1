using System.Globalization;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// Reads settings from a configuration section, falling back to <paramref name="inherited"/> (a named endpoint inherits
/// what it does not set from <c>Hokusai:Webhook</c>). A value that does not parse is recorded in <paramref name="errors"/>
/// under the member it was meant for, worded with the configuration key that supplied it, for the validator to report;
/// values are never repeated in full and secrets not at all.
/// </summary>
internal sealed class SettingReader(IConfiguration section, string path, IConfiguration? inherited, string? inheritedPath,
    IDictionary<string, string> errors)
{
    /// <summary>The value of <paramref name="key"/> and the configuration path it came from, or null when unset.</summary>
    public (string Path, string Value)? Read(string key)
    {
        if (section[key] is { } value)
        {
            return ($"{path}:{key}", value);
        }

        return inherited?[key] is { } inheritedValue ? ($"{inheritedPath}:{key}", inheritedValue) : null;
    }

    public void String(string key, Action<string> set)
    {
        if (Read(key) is { } setting)
        {
            set(setting.Value);
        }
    }

    /// <summary>What <see cref="SecretOrFile"/> adds to a key to name the file that holds its value.</summary>
    public const string FileSuffix = "File";

    /// <summary>
    /// A secret given as a value (<paramref name="key"/>) or as the path of a file that holds it (<paramref name="key"/>
    /// + <c>File</c>, the way Kestrel takes a certificate's path; for Docker and Kubernetes secrets): the section's own
    /// first, then the inherited one. The whole file is read, trailing newlines trimmed. Both keys in one section, or a
    /// file that cannot be read, is an error naming the key and the path, never the content.
    /// </summary>
    public void SecretOrFile(string key, Action<string> set)
    {
        if (!SecretIn(section, path, key, set) && inherited is not null)
        {
            SecretIn(inherited, inheritedPath!, key, set);
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
            errors[key] = $"{setting.Path} must be a number of seconds (e.g. 2 or 0.5); got '{Shown(setting.Value)}'.";
        }
        else if (seconds > 86_400)
        {
            errors[key] = $"{setting.Path} must be at most 86400 seconds (a day); got {setting.Value.Trim()}.";
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
            errors[key] = $"{setting.Path} must be a whole number; got '{Shown(setting.Value)}'.";
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
            errors[key] = $"{setting.Path} must be true or false; got '{Shown(setting.Value)}'.";
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
            errors[key] = $"{setting.Path} must be {expected}; got '{Shown(setting.Value)}'.";
        }
    }

    private bool SecretIn(IConfiguration from, string at, string key, Action<string> set)
    {
        var fileKey = key + FileSuffix;
        var value = from[key];
        var file = from[fileKey] is { Length: > 0 } named ? named : null;
        if (file is null)
        {
            if (value is not null)
            {
                set(value);
            }

            return value is not null;
        }

        if (value is not null)
        {
            errors[key] = $"{at}:{key} and {at}:{fileKey} are both set; set one of them.";
            return true;
        }

        if (SettingValues.TryReadSecretFile(file, out var secret, out var problem))
        {
            set(secret);
        }
        else
        {
            errors[key] = $"{at}:{fileKey} names {SafeText.Of(file, 200)}, but {problem}.";
        }

        return true;
    }

    /// <summary>A value as it may be shown in an error: control characters escaped, cut to 40 characters.</summary>
    private static string Shown(string value) => SafeText.Of(value, 40);
}
