using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

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
