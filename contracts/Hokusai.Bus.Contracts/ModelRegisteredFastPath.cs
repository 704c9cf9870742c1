using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The usual registration read in one pass: the guide's top-level keys, each once, with the values System.Text.Json
/// would take for them, read by the same converters, and the metadata by the serializer's own metadata reader. Anything
/// else (an unknown or repeated key, a value of another JSON type, a metric name twice, JSON that does not parse) is
/// not decided here: the caller reads the body with the serializer, which gives the result and the error it always has.
/// </summary>
/// <remarks>
/// The source-generated reader of <see cref="ModelRegistered"/> binds its <c>init</c> properties as constructor
/// arguments, gathered into an object array before the record is built; this builds the record from locals. Both
/// readers give the same record for every body this one takes (<c>ModelRegisteredFastPathTests</c>).
/// </remarks>
internal static class ModelRegisteredFastPath
{
    private static readonly StringOrNumberConverter Version = new();
    private static readonly UtcTimestampConverter Timestamp = new();

    /// <summary>The registration in <paramref name="utf8Json"/>, or null when the serializer must decide.</summary>
    public static ModelRegistered? TryRead(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return Read(utf8Json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static ModelRegistered? Read(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? modelId = null, key = null, version = null, symbol = null;
        DateTimeOffset timestamp = default;
        Dictionary<string, double>? metrics = null;
        ModelMetadata? metadata = null;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Field(ref reader);
            if (field == 0 || (seen & field) != 0 || !reader.Read())
            {
                return null; // an unknown key (kept as extension data) or a repeated one
            }

            seen |= field;
            switch (field)
            {
                // As the serializer reads each: GetString is null for JSON null and throws for any other type.
                case ModelIdField:
                    modelId = reader.GetString();
                    break;
                case KeyField:
                    key = reader.GetString();
                    break;
                case SymbolField:
                    symbol = reader.GetString();
                    break;
                case VersionField:
                    version = Version.Read(ref reader, typeof(string), ModelRegisteredJson.Options);
                    break;
                case TimestampField:
                    timestamp = Timestamp.Read(ref reader, typeof(DateTimeOffset), ModelRegisteredJson.Options);
                    break;
                case MetricsField when reader.TokenType == JsonTokenType.Null:
                    break;
                case MetricsField:
                    if ((metrics = Metrics(ref reader)) is null)
                    {
                        return null;
                    }

                    break;
                case MetadataField:
                    metadata = JsonSerializer.Deserialize(ref reader, ContractsJsonContext.Body.ModelMetadata);
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return null;
        }

        return new ModelRegistered
        {
            ModelId = modelId!,
            IdempotencyKey = key!,
            RegisteredVersion = version!,
            Timestamp = timestamp,
            TokenSymbol = symbol!,
            BaselineMetrics = metrics!,
            Metadata = metadata!,
        };
    }

    private const int ModelIdField = 1, KeyField = 2, VersionField = 4, TimestampField = 8, SymbolField = 16, MetricsField = 32, MetadataField = 64;

    private static int Field(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("model_id"u8) ? ModelIdField
        : reader.ValueTextEquals("idempotency_key"u8) ? KeyField
        : reader.ValueTextEquals("registered_version"u8) ? VersionField
        : reader.ValueTextEquals("timestamp"u8) ? TimestampField
        : reader.ValueTextEquals("token_symbol"u8) ? SymbolField
        : reader.ValueTextEquals("baseline_metrics"u8) ? MetricsField
        : reader.ValueTextEquals("metadata"u8) ? MetadataField
        : 0;

    /// <summary>An object of JSON numbers, each name once; null for anything else.</summary>
    private static Dictionary<string, double>? Metrics(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var metrics = new Dictionary<string, double>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !metrics.TryAdd(name, reader.GetDouble()))
            {
                return null;
            }
        }

        return metrics;
    }
}
