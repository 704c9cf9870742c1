using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Host;

/// <summary>
/// <c>DELTAONE_WEBHOOK_ENDPOINTS</c> in the pipeline's own form, so ops copy the pipeline's setting across unchanged: a
/// JSON array of <c>{"url", "secret", "event_types" (default ["deltaone.achieved"]), "active" (default true),
/// "description"}</c>. Each active entry becomes a named endpoint, <c>deltaone-&lt;first 8 hex of SHA-256(url)&gt;</c>
/// (stable when the array is reordered), that takes its event types in the pipeline's shapes. Other keys are ignored, as
/// the pipeline ignores them; anything the pipeline would skip or misread is an error naming the entry.
/// </summary>
internal static class DeltaOneEndpoints
{
    public const string Variable = "DELTAONE_WEBHOOK_ENDPOINTS";

    /// <summary>The pipeline's default <c>event_types</c>.</summary>
    private const string DefaultEventType = "deltaone.achieved";

    /// <summary>
    /// The configuration keys the entries of <paramref name="json"/> map onto, the setting each key is named by in
    /// messages (<c>DELTAONE_WEBHOOK_ENDPOINTS[0].url</c>), and what is wrong with it, each naming the entry.
    /// </summary>
    public static (Dictionary<string, string?> Keys, Dictionary<string, string> Names, List<string> Errors) Read(string json)
    {
        var (keys, names, errors) = (new Dictionary<string, string?>(), new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), new List<string>());
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            var message = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var at and >= 0 ? e.Message[..at] : e.Message;
            errors.Add($"{Variable} is not valid JSON ({SafeText.Of(message, 120)}); it must be a JSON array of "
                + "{\"url\", \"secret\", \"event_types\", \"active\", \"description\"} objects.");
            return (keys, names, errors);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{Variable} must be a JSON array of {{\"url\", \"secret\", \"event_types\", \"active\", \"description\"}} objects; "
                    + $"got a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
                return (keys, names, errors);
            }

            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var index = -1;
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                index++;
                var at = $"{Variable}[{index}]";
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{at} must be a JSON object with \"url\" and \"secret\".");
                    continue;
                }

                if (!Active(entry, at, errors))
                {
                    continue;
                }

                var url = Text(entry, "url", at, errors)?.Trim();
                var secret = Text(entry, "secret", at, errors);
                var types = EventTypes(entry, at, errors);
                if (url is null || secret is null || types is null)
                {
                    continue;
                }

                if (seen.TryGetValue(url, out var first))
                {
                    errors.Add($"{at}.url is the url of {Variable}[{first}] too; give each endpoint once.");
                    continue;
                }

                seen[url] = index;
                var section = $"{HokusaiWebhookOptions.SectionName}:{WebhookEndpointNames.SectionKey}:{NameOf(url)}";
                Add(keys, names, $"{section}:Url", url, $"{at}.url");
                Add(keys, names, $"{section}:Secret", secret, $"{at}.secret");
                Add(keys, names, $"{section}:EventTypes", string.Join(',', types), $"{at}.event_types");
                // The pipeline's shapes: a registration, if one is subscribed to, goes as the MLflow event.
                Add(keys, names, $"{section}:PayloadFormat", "mlflow", $"{at}.url");
            }
        }

        return (keys, names, errors);
    }

    /// <summary><c>deltaone-</c> and the first 8 hex digits of the URL's SHA-256: the endpoint's name and queue suffix.</summary>
    public static string NameOf(string url) =>
        "deltaone-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)))[..8];

    private static void Add(Dictionary<string, string?> keys, Dictionary<string, string> names, string key, string value, string name)
    {
        keys[key] = value;
        names[key] = name;
    }

    private static bool Active(JsonElement entry, string at, List<string> errors)
    {
        if (!entry.TryGetProperty("active", out var active) || active.ValueKind == JsonValueKind.True)
        {
            return true;
        }

        if (active.ValueKind != JsonValueKind.False)
        {
            errors.Add($"{at}.active must be true or false.");
        }

        return false;
    }

    private static string? Text(JsonElement entry, string name, string at, List<string> errors)
    {
        if (entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { } text
            && !string.IsNullOrWhiteSpace(text))
        {
            return text;
        }

        errors.Add($"{at}.{name} is required and must be a non-empty string.");
        return null;
    }

    private static string[]? EventTypes(JsonElement entry, string at, List<string> errors)
    {
        if (!entry.TryGetProperty("event_types", out var types))
        {
            return [DefaultEventType];
        }

        if (types.ValueKind != JsonValueKind.Array || types.GetArrayLength() == 0
            || types.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
        {
            errors.Add($"{at}.event_types must be a non-empty JSON array of event type names, e.g. [\"{DefaultEventType}\"].");
            return null;
        }

        return [.. types.EnumerateArray().Select(t => t.GetString()!.Trim())];
    }
}
