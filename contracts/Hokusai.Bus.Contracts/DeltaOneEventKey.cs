using System.Security.Cryptography;
using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The idempotency key of a DeltaOne event, which the pipeline does not send: a UUIDv5 (DNS namespace, as registration
/// keys) of what identifies one event, so the pipeline's retries of it and every one of our attempts share it:
/// <list type="bullet">
/// <item><c>deltaone:&lt;event_type&gt;:&lt;run_id&gt;:&lt;attestation_hash&gt;</c> when the body has both (achieved and
/// minted: one evaluation run, one attestation);</item>
/// <item>else <c>deltaone:&lt;event_type&gt;:&lt;idempotency_key&gt;:&lt;status&gt;</c> when it has an
/// <c>idempotency_key</c> (reward_ingest_failed: the mint request's key and the notification it failed);</item>
/// <item>else <c>deltaone:&lt;event_type&gt;:sha256:&lt;hex of the body&gt;</c>: the pipeline sends the same bytes on each
/// retry (its body is built once, keys sorted).</item>
/// </list>
/// </summary>
public static class DeltaOneEventKey
{
    /// <summary>The key of the DeltaOne event <paramref name="body"/> of type <paramref name="eventType"/>.</summary>
    public static string For(string eventType, ReadOnlySpan<byte> body) => Identify(eventType, body).Key;

    /// <summary>The key of the DeltaOne event <paramref name="body"/>, and the <c>model_id</c> it names (a string), if any.</summary>
    public static (string Key, string? ModelId) Identify(string eventType, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        var (runId, attestation, key, status, modelId) = Identity(body);
        var name = runId is not null && attestation is not null
            ? $"deltaone:{eventType}:{runId}:{attestation}"
            : key is not null
                ? $"deltaone:{eventType}:{key}:{status}"
                : $"deltaone:{eventType}:sha256:{Convert.ToHexStringLower(SHA256.HashData(body))}";
        return (IdempotencyKey.UuidV5(name).ToString(), modelId);
    }

    /// <summary>The identifying top-level strings, where the body has them as strings.</summary>
    private static (string? RunId, string? Attestation, string? Key, string? Status, string? ModelId) Identity(ReadOnlySpan<byte> body)
    {
        string? runId = null, attestation = null, key = null, status = null, modelId = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                switch (name)
                {
                    case "run_id": runId = value; break;
                    case "attestation_hash": attestation = value; break;
                    case "idempotency_key": key = value; break;
                    case "status": status = value; break;
                    case "model_id": modelId = value; break;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return default; // not JSON: the body's hash identifies it
        }

        return (runId, attestation, key, status, modelId);
    }
}
