using System.Globalization;

namespace Hokusai.Bus;

/// <summary>
/// How Hokusai settings are written, for hosts and tools that read them: one parser for flags, one for durations and one
/// reader of secret files, so <c>ENABLE_REDIS_FALLBACK=yes</c> or a secret's file means the same in the host, the CLI and
/// the plugin.
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

    /// <summary>
    /// A secret given either as a value (setting <paramref name="name"/>) or as the path of a file that holds it (setting
    /// <paramref name="fileName"/>; Docker and Kubernetes secrets): the whole file, trailing newlines trimmed. Both set, or
    /// a file that cannot be read, is a <paramref name="problem"/> naming the settings and the path, never the content.
    /// </summary>
    public static bool TryReadSecret(string name, string? value, string fileName, string? path, out string secret, out string problem)
    {
        problem = "";
        if (string.IsNullOrEmpty(path))
        {
            secret = value ?? "";
            return true;
        }

        secret = "";
        if (value is not null)
        {
            problem = $"{name} and {fileName} are both set; set one of them.";
            return false;
        }

        try
        {
            secret = File.ReadAllText(path).TrimEnd('\r', '\n');
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var why = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "it does not exist",
                UnauthorizedAccessException => "permission denied",
                _ => "it cannot be read (" + e.GetType().Name + ")",
            };
            problem = $"{fileName} names {Contracts.SafeText.Of(path, 200)}, but {why}.";
            return false;
        }
    }

    /// <summary>A broker URL as it may be shown: the user kept, the password masked (<c>amqp://guest:***@host:5672/</c>).</summary>
    public static string WithoutPassword(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.UserInfo.Contains(':', StringComparison.Ordinal)
            ? url.ToString().Replace(url.UserInfo + "@", url.UserInfo.Split(':')[0] + ":***@", StringComparison.Ordinal)
            : url.ToString();
    }
}
