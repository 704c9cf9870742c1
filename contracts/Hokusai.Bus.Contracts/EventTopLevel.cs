using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// What the top level of a webhook body says about its shape, read without deserializing it: whether it is a JSON
/// object, whether it has <c>event_type</c> (and its text, null when not a string), and whether it has a key of the
/// guide's registration (<c>model_id</c>, <c>token_symbol</c>, <c>registered_version</c>, <c>idempotency_key</c>).
/// The one reading of an event's shape, for the host's <c>/ingest</c> and the receiver library alike.
/// </summary>
public readonly record struct EventTopLevel(bool IsObject, bool HasEventType, string? EventType, bool HasGuideKey)
{
    /// <summary>Reads the top level of <paramref name="body"/>, and the rest to its end, so a truncated body is not JSON whatever its keys.</summary>
    /// <exception cref="JsonException">The body is not JSON (empty, truncated or malformed).</exception>
    public static EventTopLevel Read(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read())
        {
            throw new JsonException("The body is empty.");
        }

        var (isObject, hasEventType, eventType, hasGuideKey) = (reader.TokenType == JsonTokenType.StartObject, false, (string?)null, false);
        while (isObject && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("event_type"u8))
            {
                hasEventType = true;
                reader.Read();
                eventType = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                hasGuideKey |= reader.ValueTextEquals("model_id"u8) || reader.ValueTextEquals("token_symbol"u8)
                               || reader.ValueTextEquals("registered_version"u8) || reader.ValueTextEquals("idempotency_key"u8);
                reader.Read();
            }

            reader.Skip();
        }

        while (reader.Read())
        {
        }

        return new EventTopLevel(isObject, hasEventType, eventType, hasGuideKey);
    }
}
