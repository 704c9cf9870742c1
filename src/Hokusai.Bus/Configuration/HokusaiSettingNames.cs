namespace Hokusai.Bus;

/// <summary>
/// How a setting is named in a log line: by default its configuration key (<c>Hokusai:Webhook:MaxHold</c>). A host that
/// maps its own names onto the keys (environment variables, say) registers one that gives those, so a line tells its
/// reader the name they set.
/// </summary>
public sealed class HokusaiSettingNames(Func<string, string> name)
{
    /// <summary>Names each setting by its configuration key.</summary>
    public static HokusaiSettingNames Keys { get; } = new(key => key);

    /// <summary>The name of the setting whose configuration key is <paramref name="key"/>.</summary>
    public string Of(string key) => name(key);
}
