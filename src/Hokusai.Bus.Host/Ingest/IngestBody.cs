using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>The two shapes <c>/ingest</c> accepts.</summary>
internal enum IngestShape
{
    /// <summary>The integration guide's payload (<c>model_id</c>, <c>token_symbol</c>, ...).</summary>
    Guide,

    /// <summary>The pipeline's "original MLflow event" (<c>event_type</c>, <c>model</c>, ...).</summary>
    Mlflow,
}

/// <summary>What <see cref="IngestBody.Read"/> made of a body: a registration, or the status to answer and why.</summary>
internal readonly record struct IngestRead(ModelRegistered? Registration, IngestShape Shape, int Status, string? Reason)
{
    public static IngestRead Refused(int status, string reason) => new(null, IngestShape.Guide, status, reason);
}

/// <summary>
/// Tells the guide's shape from the MLflow event by the top-level keys, then reads it with the contracts' reader for
/// that shape: not JSON or a bad field is 400 naming the field; JSON that is neither shape (another event type) is 422.
/// The idempotency key is the body's (guide), else the <c>X-Hokusai-Idempotency-Key</c> header (the pipeline sends it
/// only there), else derived from the registration.
/// </summary>
internal static class IngestBody
{
    public static IngestRead Read(ReadOnlySpan<byte> body, string? headerKey)
    {
        headerKey = string.IsNullOrEmpty(headerKey) ? null : headerKey;
        string? eventType;
        bool hasEventType, hasGuideKey;
        try
        {
            (hasEventType, eventType, hasGuideKey) = TopLevelKeys(body);
        }
        catch (JsonException e)
        {
            return IngestRead.Refused(400, "The body is not valid JSON: " + SafeText.Of(StripLocation(e.Message), 200));
        }
        catch (NotAnObject)
        {
            return IngestRead.Refused(400, "The body must be a JSON object: a model registration in the guide's shape or an MLflow event.");
        }

        ModelRegistered? registration;
        string? error;
        IngestShape shape;
        if (hasEventType)
        {
            if (eventType != MlflowEvent.ModelRegisteredType)
            {
                return IngestRead.Refused(422, $"event_type '{SafeText.Of(eventType, 60)}' is not a model registration: only "
                    + $"'{MlflowEvent.ModelRegisteredType}' is ingested (point the pipeline's other events elsewhere, e.g. "
                    + "DELTAONE_WEBHOOK_ENDPOINTS for deltaone.*).");
            }

            shape = IngestShape.Mlflow;
            MlflowEvent.TryDeserialize(body, headerKey, out registration, out error);
        }
        else if (hasGuideKey)
        {
            shape = IngestShape.Guide;
            if (ModelRegisteredJson.TryDeserialize(body, out registration, out error) && registration.IdempotencyKey.Length == 0
                && headerKey is not null)
            {
                registration = registration with { IdempotencyKey = headerKey };
            }
        }
        else
        {
            return IngestRead.Refused(422, "The body is neither a model registration in the guide's shape (model_id, token_symbol, "
                + "registered_version, timestamp) nor an MLflow event (event_type, model, timestamp): it has neither model_id nor event_type.");
        }

        if (registration is null)
        {
            return IngestRead.Refused(400, error!);
        }

        var problems = ModelRegisteredValidation.Validate(registration);
        if (problems.Count > 0)
        {
            return IngestRead.Refused(400, string.Join(" ", problems));
        }

        var key = IdempotencyKey.For(registration);
        return new IngestRead(key == registration.IdempotencyKey ? registration : registration with { IdempotencyKey = key }, shape, 200, null);
    }

    /// <summary>Scans the top level only: whether <c>event_type</c> is there (and its text), and whether a guide key is.</summary>
    private static (bool HasEventType, string? EventType, bool HasGuideKey) TopLevelKeys(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            // Read the rest, so that text which is not JSON at all is reported as such.
            while (reader.Read())
            {
            }

            throw new NotAnObject();
        }

        var (hasEventType, eventType, hasGuideKey) = (false, (string?)null, false);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("event_type"u8))
            {
                hasEventType = true;
                reader.Read();
                eventType = reader.TokenType == JsonTokenType.String ? reader.GetString() : "(not a string)";
            }
            else
            {
                hasGuideKey |= reader.ValueTextEquals("model_id"u8) || reader.ValueTextEquals("token_symbol"u8)
                               || reader.ValueTextEquals("registered_version"u8) || reader.ValueTextEquals("idempotency_key"u8);
                reader.Read();
            }

            reader.Skip();
        }

        // The rest must be valid JSON too: a truncated body is 400, whatever its keys.
        while (reader.Read())
        {
        }

        return (hasEventType, eventType, hasGuideKey);
    }

    private static string StripLocation(string message) =>
        message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var at and >= 0 ? message[..at] : message;

    private sealed class NotAnObject : Exception;
}
