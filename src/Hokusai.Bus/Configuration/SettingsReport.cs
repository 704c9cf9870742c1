using System.Collections.Concurrent;

namespace Hokusai.Bus;

/// <summary>
/// What binding found for one options instance: the setting each member's value came from (<c>WEBHOOK_TIMEOUT</c>,
/// <c>WEBHOOK_SECRET_FILE</c>) and the settings that could not be read, each with a message that already names it.
/// <see cref="SettingsBinder"/> writes it; the options' validator reports the errors, and names every other failure
/// after the setting that gave the value. Kept per options name in <see cref="SettingsReports{TOptions}"/>, not on the
/// options object the application sees.
/// </summary>
public sealed class SettingsReport
{
    private readonly ConcurrentDictionary<string, string> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _sources = new(StringComparer.Ordinal);

    /// <summary>Members whose setting could not be read, with the message naming it; no other rule applies to them.</summary>
    public IReadOnlyDictionary<string, string> Errors => _errors;

    /// <summary>The setting that gave <paramref name="member"/> its value, or null when it came from code or its default.</summary>
    public string? SourceOf(string member) => _sources.TryGetValue(member, out var source) ? source : null;

    /// <summary>
    /// How a message names <paramref name="member"/>: the setting that gave its value, else <paramref name="key"/> (its
    /// configuration key) as <paramref name="names"/> shows it.
    /// </summary>
    public string NameOf(string member, string key, HokusaiSettingNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return SourceOf(member) ?? names.Of(key);
    }

    /// <summary>Records that <paramref name="member"/> cannot be used, in words that already name the setting.</summary>
    public void Fail(string member, string message) => _errors[member] = message;

    /// <summary>
    /// Records that <paramref name="member"/> was set by the setting <paramref name="name"/>; a later setting (an
    /// endpoint's own, over the one it inherits) replaces an earlier one and its error.
    /// </summary>
    public void SetBy(string member, string name)
    {
        _sources[member] = name;
        _errors.TryRemove(member, out _);
    }

    /// <summary>Forgets <paramref name="member"/>: its value is about to be set again from scratch.</summary>
    public void Forget(string member)
    {
        _sources.TryRemove(member, out _);
        _errors.TryRemove(member, out _);
    }
}
