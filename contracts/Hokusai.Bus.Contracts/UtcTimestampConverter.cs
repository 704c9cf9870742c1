using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// Reads an ISO 8601 timestamp only (<c>2024-01-15T10:30:00Z</c>: date, <c>T</c> or a space, time to the minute,
/// second or up to 7 fraction digits, then <c>Z</c>, an offset, or none, which is taken as UTC, as Python's
/// <c>datetime.utcnow().isoformat()</c> sends) and always writes UTC with <c>Z</c>, trailing zero fractions trimmed.
/// Culture formats such as <c>01/02/2024 10:30</c> are refused: their day and month are ambiguous.
/// </summary>
internal sealed partial class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    [System.Text.RegularExpressions.GeneratedRegex(
        @"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Iso8601();

    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("timestamp must be an ISO 8601 string, e.g. \"2024-01-15T10:30:00Z\".");
        }

        var text = reader.GetString();
        return TryParse(text, out var value)
            ? value
            : throw new JsonException($"timestamp must be ISO 8601, e.g. \"2024-01-15T10:30:00Z\"; got '{SafeText.Of(text, 40)}'.");
    }

    /// <summary>Reads <paramref name="text"/> by the rules above, as a UTC time.</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        if (text is null || !Iso8601().IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
        {
            value = default;
            return false;
        }

        value = value.ToUniversalTime();
        return true;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<char> buffer = stackalloc char[32];
        value.UtcDateTime.TryFormat(buffer, out var written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
