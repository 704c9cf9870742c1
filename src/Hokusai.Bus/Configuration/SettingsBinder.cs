using System.Globalization;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// The one reader of Hokusai settings: the webhook options, the Redis fallback's and a host's own. It reads each key of
/// one configuration section and parses it; a secret may instead be in a file (<c>&lt;key&gt;File</c>, the way Kestrel
/// takes a certificate's path; for Docker and Kubernetes secrets). Each value read is recorded in the
/// <see cref="SettingsReport"/> with the setting that gave it, and each that does not parse as an error under the member
/// it was meant for, worded with the setting's name as the user gave it (<see cref="HokusaiSettingNames"/>), for the
/// validator to report with the rest. Values are never repeated in full in a message, and secrets not at all.
/// </summary>
/// <param name="section">The section read, e.g. <c>Hokusai:Webhook</c>.</param>
/// <param name="names">How a message names a setting (a host maps its environment variables onto keys).</param>
/// <param name="report">Where each member's source and each error are recorded.</param>
public sealed class SettingsBinder(IConfigurationSection section, HokusaiSettingNames names, SettingsReport report)
{
    /// <summary>What <see cref="SecretOrFile"/> adds to a key to name the file that holds its value.</summary>
    public const string FileSuffix = "File";

    /// <summary>The longest duration a setting in seconds may give: a day.</summary>
    private const double MaxSeconds = 86_400;

    /// <summary>The name of <paramref name="key"/> of the section being read, as messages show it.</summary>
    public string NameOf(string key) => names.Of($"{section.Path}:{key}");

    /// <summary>The text of <paramref name="key"/>, as given.</summary>
    public void String(string key, Action<string> set)
    {
        if (Read(key) is { } value)
        {
            set(value);
        }
    }

    /// <summary>
    /// A secret given as a value (<paramref name="key"/>) or as the path of a file that holds it (<paramref name="key"/>
    /// + <c>File</c>): the whole file, trailing newlines trimmed. Both set, or a file that cannot be read, is an error
    /// naming the settings and the path, never the content. A value read from a file is reported under the file's setting.
    /// </summary>
    public void SecretOrFile(string key, Action<string> set)
    {
        var value = section[key];
        var file = section[key + FileSuffix];
        if (value is null && string.IsNullOrEmpty(file))
        {
            return;
        }

        var (name, fileName) = (NameOf(key), NameOf(key + FileSuffix));
        if (SettingValues.TryReadSecret(name, value, fileName, file, out var secret, out var problem))
        {
            report.SetBy(key, string.IsNullOrEmpty(file) ? name : fileName);
            set(secret);
        }
        else
        {
            report.Fail(key, problem);
        }
    }

    /// <summary>Secrets as <see cref="SecretOrFile"/> reads one: comma-separated, or (from a file) one per line.</summary>
    public void SecretList(string key, Action<IReadOnlyList<string>> set) =>
        SecretOrFile(key, v => set(v.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>A duration in seconds (<c>30</c>, <c>0.5</c>), at most a day; the validator names any tighter limit.</summary>
    public void Seconds(string key, Action<TimeSpan> set)
    {
        if (Read(key) is not { } value)
        {
            return;
        }

        if (!SettingValues.TryParseSeconds(value, out var seconds))
        {
            report.Fail(key, $"{NameOf(key)} must be a number of seconds (e.g. 2 or 0.5); got '{Shown(value)}'.");
        }
        else if (seconds > MaxSeconds)
        {
            report.Fail(key, $"{NameOf(key)} must be at most {MaxSeconds:0} seconds (a day); got {value.Trim()}.");
        }
        else
        {
            // Negative and tiny values are read as given, for the validator to name the limit they break.
            set(TimeSpan.FromSeconds(Math.Max(seconds, -MaxSeconds)));
        }
    }

    /// <summary>A whole number; one that does not parse is an error saying what is <paramref name="expected"/>.</summary>
    public void Integer(string key, Action<int> set, string expected = "a whole number")
    {
        if (Read(key) is not { } value)
        {
            return;
        }

        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            set(number);
        }
        else
        {
            report.Fail(key, $"{NameOf(key)} must be {expected}; got '{Shown(value)}'.");
        }
    }

    /// <summary>true/false the way shells and Python programs write them (<see cref="SettingValues.TryParseFlag"/>).</summary>
    public void Flag(string key, Action<bool> set)
    {
        if (Read(key) is not { } value)
        {
            return;
        }

        if (SettingValues.TryParseFlag(value, out var flag))
        {
            set(flag);
        }
        else
        {
            report.Fail(key, $"{NameOf(key)} must be true or false; got '{Shown(value)}'.");
        }
    }

    /// <summary>One of <paramref name="choices"/> (case-insensitive), or an error saying what is <paramref name="expected"/>.</summary>
    public void Choice<T>(string key, IReadOnlyDictionary<string, T> choices, string expected, Action<T> set)
    {
        if (Read(key) is not { } value)
        {
            return;
        }

        if (choices.TryGetValue(value.Trim().ToLowerInvariant(), out var choice))
        {
            set(choice);
        }
        else
        {
            report.Fail(key, $"{NameOf(key)} must be {expected}; got '{Shown(value)}'.");
        }
    }

    /// <summary>Records that <paramref name="member"/> cannot be used, in words that already name the setting.</summary>
    public void Fail(string member, string message) => report.Fail(member, message);

    /// <summary>The value of <paramref name="key"/>, recorded as the source of that member; null when unset.</summary>
    private string? Read(string key)
    {
        if (section[key] is not { } value)
        {
            return null;
        }

        report.SetBy(key, NameOf(key));
        return value;
    }

    /// <summary>A value as it may be shown in an error: control characters escaped, cut to 40 characters.</summary>
    private static string Shown(string value) => SafeText.Of(value, 40);
}
