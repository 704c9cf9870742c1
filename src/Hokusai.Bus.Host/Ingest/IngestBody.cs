using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>What <see cref="IngestBody.Read"/> made of a verified body: the event to publish, or the status to answer and why.</summary>
internal readonly record struct IngestRead(PipelineEvent? Event, int Status, string? Reason, string Refusal = "")
{
    public static IngestRead Refused(int status, string refusal, string reason) => new(null, status, reason, refusal);
}

/// <summary>
/// Tells the shape of a verified body by its top-level keys and checks it, without changing a byte:
/// <list type="bullet">
/// <item><c>event_type: model_registered</c>: the MLflow event, read with the contracts' reader and validated;</item>
/// <item><c>event_type: deltaone.*</c>: a DeltaOne event, which must have been signed the DeltaOne way (timestamp and
/// nonce) and be subscribed to by an endpoint;</item>
/// <item>no <c>event_type</c> but the guide's keys: the guide's payload, read and validated.</item>
/// </list>
/// Not JSON, or a bad field, is 400 naming the field; an event type nothing takes is 422 naming it. The idempotency key
/// of a registration is the body's (guide), else the <c>X-Hokusai-Idempotency-Key</c> header (the pipeline sends it
/// only there), else derived; a DeltaOne event's is <see cref="DeltaOneEventKey"/>'s.
/// </summary>
internal static class IngestBody
{
    public static IngestRead Read(
        ReadOnlySpan<byte> body, string? headerKey, bool signedWithNonce, Func<string, bool> subscribed, DateTimeOffset receivedAt)
    {
        headerKey = string.IsNullOrEmpty(headerKey) ? null : headerKey;
        string? eventType;
        bool isObject, hasEventType, hasGuideKey;
        try
        {
            (isObject, hasEventType, eventType, hasGuideKey) = EventTopLevel.Read(body);
        }
        catch (JsonException e)
        {
            return IngestRead.Refused(400, "field", "The body is not valid JSON: " + SafeText.Of(StripLocation(e.Message), 200));
        }

        if (!isObject)
        {
            return IngestRead.Refused(400, "field", "The body must be a JSON object: a model registration (the MLflow event or the guide's shape) "
                + "or a DeltaOne event.");
        }

        if (hasEventType && eventType is null)
        {
            return IngestRead.Refused(400, "field", "event_type must be a string.");
        }

        PipelineEventShape shape;
        if (PipelineEvent.IsDeltaOne(eventType))
        {
            if (!signedWithNonce)
            {
                return IngestRead.Refused(401, "signature", $"A {SafeText.Of(eventType, 60)} event must be signed the DeltaOne way, with "
                    + $"{WebhookHeaders.Timestamp} and {WebhookHeaders.Nonce}, as the pipeline signs it.");
            }

            shape = PipelineEventShape.DeltaOne;
        }
        else if (eventType == PipelineEvent.ModelRegisteredType)
        {
            shape = PipelineEventShape.Mlflow;
        }
        else if (hasEventType)
        {
            return IngestRead.Refused(422, "event_type", $"event_type '{SafeText.Of(eventType, 60)}' is not one /ingest takes: "
                + $"'{PipelineEvent.ModelRegisteredType}' or a '{PipelineEvent.DeltaOnePrefix}*' type.");
        }
        else if (hasGuideKey)
        {
            shape = PipelineEventShape.Guide;
        }
        else
        {
            return IngestRead.Refused(422, "event_type", "The body has no event_type, and it is not a model registration in the guide's shape "
                + "(model_id, token_symbol, registered_version, timestamp) either.");
        }

        var type = shape == PipelineEventShape.DeltaOne ? eventType! : PipelineEvent.ModelRegisteredType;
        if (!subscribed(type))
        {
            // Never acknowledged and then dropped: the pipeline's log shows what no endpoint takes.
            return IngestRead.Refused(422, "event_type", $"No endpoint subscribes to event_type '{SafeText.Of(type, 60)}': add it to an "
                + "endpoint's EventTypes (WEBHOOK_EVENT_TYPES, or event_types in DELTAONE_WEBHOOK_ENDPOINTS).");
        }

        string key;
        string? modelId;
        if (shape == PipelineEventShape.DeltaOne)
        {
            (key, modelId) = DeltaOneEventKey.Identify(type, body);
        }
        else
        {
            var registration = ReadRegistration(body, shape, headerKey, out var problem);
            if (registration is null)
            {
                return IngestRead.Refused(400, "field", problem!);
            }

            key = IdempotencyKey.For(registration);
            modelId = registration.ModelId;
        }

        return new IngestRead(new PipelineEvent
        {
            EventType = type,
            Shape = shape,
            Body = body.ToArray(),
            ReceivedAt = receivedAt,
            IdempotencyKey = key,
            ModelId = modelId,
        }, 202, null);
    }

    /// <summary>The registration a guide or MLflow body holds, validated; null with the problem (naming the field) when it is not one.</summary>
    private static ModelRegistered? ReadRegistration(ReadOnlySpan<byte> body, PipelineEventShape shape, string? headerKey, out string? problem)
    {
        ModelRegistered? registration;
        if (shape == PipelineEventShape.Mlflow)
        {
            MlflowEvent.TryDeserialize(body, headerKey, out registration, out problem);
        }
        else if (ModelRegisteredJson.TryDeserialize(body, out registration, out problem) && registration.IdempotencyKey.Length == 0
                 && headerKey is not null)
        {
            registration = registration with { IdempotencyKey = headerKey };
        }

        if (registration is null)
        {
            return null;
        }

        var problems = ModelRegisteredValidation.Validate(registration);
        problem = problems.Count > 0 ? string.Join(" ", problems) : null;
        return problems.Count > 0 ? null : registration;
    }

    private static string StripLocation(string message) =>
        message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var at and >= 0 ? message[..at] : message;
}
