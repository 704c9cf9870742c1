using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hokusai.Bus.Contracts;

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
