using System.Collections.Concurrent;

namespace Hokusai.Bus;

/// <summary>The <see cref="SettingsReport"/> of each named instance of <typeparamref name="TOptions"/>; a singleton.</summary>
/// <typeparam name="TOptions">The options type bound.</typeparam>
public sealed class SettingsReports<TOptions>
    where TOptions : class
{
    private readonly ConcurrentDictionary<string, SettingsReport> _byName = new(StringComparer.Ordinal);

    /// <summary>Starts the report of <paramref name="name"/> afresh (its options are being built again) and returns it.</summary>
    public SettingsReport Begin(string? name) => _byName[name ?? ""] = new SettingsReport();

    /// <summary>The report of <paramref name="name"/>; empty when nothing was bound for it.</summary>
    public SettingsReport Of(string? name) => _byName.GetOrAdd(name ?? "", _ => new SettingsReport());
}
