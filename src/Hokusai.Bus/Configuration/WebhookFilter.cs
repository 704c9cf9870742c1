using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>
/// Which registrations an endpoint receives (configuration <c>Filter:TokenSymbols</c> and <c>Filter:Tags:&lt;name&gt;</c>).
/// Empty (the default) lets every registration through. A filtered-out registration is acknowledged without a request
/// and counted (<c>webhook_filtered</c>).
/// </summary>
public sealed class WebhookFilter
{
    /// <summary>When not empty, only registrations whose <c>token_symbol</c> is one of these (exact, case-sensitive).</summary>
    public IReadOnlyList<string> TokenSymbols { get; set; } = [];

    /// <summary>When not empty, only registrations whose <c>metadata.tags</c> has every one of these names with this value.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; set; } = new Dictionary<string, string>();

    /// <summary>Whether <paramref name="registration"/> passes; when not, <paramref name="reason"/> says which rule it failed.</summary>
    public bool Accepts(ModelRegistered registration, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (TokenSymbols.Count > 0 && !TokenSymbols.Contains(registration.TokenSymbol, StringComparer.Ordinal))
        {
            reason = "token_symbol is not in Filter:TokenSymbols";
            return false;
        }

        foreach (var (name, value) in Tags)
        {
            if (registration.Metadata.Tags?.TryGetValue(name, out var actual) != true || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                reason = $"metadata.tags.{SafeText.Of(name, 40)} is not the one Filter:Tags requires";
                return false;
            }
        }

        reason = null;
        return true;
    }
}
