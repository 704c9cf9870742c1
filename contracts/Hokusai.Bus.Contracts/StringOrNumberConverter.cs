using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

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
