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

/// <summary>
/// Reads a JSON string, number or boolean as a string (producers have sent <c>"registered_version": 1</c>);
/// writes a string, as the guide's payload has it. Metadata never fails a delivery over its format.
/// </summary>
internal sealed class StringOrNumberConverter : JsonConverter<string>
{
    /// <inheritdoc />
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(
                reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            JsonTokenType.Null => null,
            _ => throw new JsonException($"expected a string or a number, found {reader.TokenType}."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);
}

/// <summary>
/// Reads <c>metadata.tags</c> leniently: string values as they are, numbers and booleans as their JSON text, nested
/// values as raw JSON, so an odd tag never fails a delivery. Writes every value as a string.
/// </summary>
internal sealed class LenientTagsConverter : JsonConverter<IReadOnlyDictionary<string, string>>
{
    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("metadata.tags must be an object of name to value.");
        }

        var tags = new Dictionary<string, string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            tags[name] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.StartObject or JsonTokenType.StartArray => JsonElement.ParseValue(ref reader).GetRawText(),
                _ => System.Text.Encoding.UTF8.GetString(
                    reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
            };
        }

        return tags;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
        {
            writer.WriteString(name, text);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// Reads a JSON number, or a string holding one (Python producers have sent <c>"0.9"</c>), as a finite double; writes a
/// number. Anything else is an error naming the field, so a value is never silently dropped.
/// </summary>
internal sealed class LenientNumberConverter : JsonConverter<double?>
{
    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        double value;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number when reader.TryGetDouble(out value):
                break;
            case JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value):
                break;
            default:
                throw new JsonException("must be a number (or a string holding one).");
        }

        return double.IsFinite(value) ? value : throw new JsonException("must be a finite number; it is out of range.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, double? value, JsonSerializerOptions options)
    {
        if (value is { } number)
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
