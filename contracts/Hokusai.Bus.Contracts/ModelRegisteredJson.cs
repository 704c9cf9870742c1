using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The one serializer for the webhook body: compact snake_case JSON, UTF-8, timestamps in UTC with <c>Z</c>,
/// optional metadata fields left out when absent, unknown metadata keys kept. Producers, the delivery consumer,
/// the Redis fallback and the tools all use it, so the bytes that are signed are the bytes that are sent.
/// </summary>
public static class ModelRegisteredJson
{
    /// <summary>The options behind <see cref="Serialize"/>; source-generated, no reflection.</summary>
    public static JsonSerializerOptions Options => ContractsJsonContext.Body.Options;

    /// <summary>The webhook body of <paramref name="message"/>.</summary>
    public static byte[] Serialize(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return JsonSerializer.SerializeToUtf8Bytes(message, ContractsJsonContext.Body.ModelRegistered);
    }

    /// <summary>Reads a webhook body or a raw bus payload.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of this shape; the message says where.</exception>
    public static ModelRegistered Deserialize(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, ContractsJsonContext.Body.ModelRegistered)
        ?? throw new JsonException("The payload is JSON null, not a model registration object.");
}

[JsonSourceGenerationOptions(
    WriteIndented = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ModelRegistered))]
internal sealed partial class ContractsJsonContext : JsonSerializerContext
{
    // Relaxed escaping keeps non-ASCII text readable in the body; receivers verify the raw bytes anyway.
    public static ContractsJsonContext Body { get; } = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
