using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

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
