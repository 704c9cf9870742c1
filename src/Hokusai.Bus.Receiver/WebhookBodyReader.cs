using System.Text.Json;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Receiver;

/// <summary>What <see cref="WebhookBodyReader.Read"/> made of a verified body: the event, or the status to answer and why.</summary>
/// <param name="Shape">The body's shape.</param>
/// <param name="EventType"><c>model_registered</c>, or the DeltaOne event's type.</param>
/// <param name="IdempotencyKey">The key the event is de-duplicated by, derived from the signed body only.</param>
/// <param name="ModelId">The model it names, if any.</param>
/// <param name="Registration">The registration a guide or MLflow body holds; null for a DeltaOne event.</param>
/// <param name="Status">0 when read; else the status to answer (400, or 401 for a DeltaOne event signed without a nonce).</param>
/// <param name="Reason">Why it is refused; null when read.</param>
internal readonly record struct WebhookBodyRead(
    PipelineEventShape Shape, string EventType, string IdempotencyKey, string? ModelId, ModelRegistered? Registration,
    int Status, string? Reason)
{
    public static WebhookBodyRead Refused(int status, string reason) => new(default, "", "", null, null, status, reason);
}

/// <summary>
/// Tells which of the shapes the host delivers a verified body has, by its top-level <c>event_type</c>, the way the
/// host's <c>/ingest</c> tells them apart, and reads it:
/// <list type="bullet">
/// <item>no <c>event_type</c>: the integration guide's registration (<c>ModelRegistered</c>);</item>
/// <item><c>event_type: model_registered</c>: the pipeline's MLflow event (<c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c>), read
/// as a registration by <see cref="MlflowEvent.TryDeserialize"/>;</item>
/// <item><c>event_type: deltaone.*</c>: a DeltaOne event, kept as bytes; it must have been signed the DeltaOne way
/// (<c>X-Hokusai-Timestamp</c> and <c>X-Hokusai-Nonce</c>), as the host signs it.</item>
/// </list>
/// Every key comes from the signed body: a registration's own <c>idempotency_key</c>, else the one derived from its
/// fields (<see cref="IdempotencyKey.For(ModelRegistered)"/>; the MLflow event carries none in its body); a DeltaOne
/// event's is <see cref="DeltaOneEventKey"/>'s, as the host derives it. Reasons never repeat a value that could forge a log line.
/// </summary>
internal static class WebhookBodyReader
{
    /// <summary>Reads <paramref name="body"/>; <paramref name="mlflow"/> and <paramref name="deltaOne"/> say which shapes beside the guide's are taken.</summary>
    public static WebhookBodyRead Read(ReadOnlySpan<byte> body, bool signedWithNonce, bool mlflow, bool deltaOne)
    {
        bool isObject, hasEventType;
        string? eventType;
        try
        {
            (isObject, hasEventType, eventType, _) = EventTopLevel.Read(body);
        }
        catch (JsonException)
        {
            return WebhookBodyRead.Refused(400, "body is not valid JSON");
        }

        if (!isObject || !hasEventType)
        {
            return Guide(body);
        }

        if (eventType is null)
        {
            return WebhookBodyRead.Refused(400, "body is not a model registration: event_type must be a string.");
        }

        if (eventType == MlflowEvent.ModelRegisteredType)
        {
            return mlflow
                ? Mlflow(body)
                : WebhookBodyRead.Refused(400, "body is the pipeline's MLflow event (event_type model_registered), not the guide's "
                    + "registration: set AcceptMlflowEvent, or map the endpoint with MapHokusaiWebhookEvents.");
        }

        var shown = SafeText.Of(eventType, 60);
        if (!PipelineEvent.IsDeltaOne(eventType))
        {
            return WebhookBodyRead.Refused(400, $"body is not a model registration: event_type '{shown}' is neither "
                + $"'{MlflowEvent.ModelRegisteredType}' nor a '{PipelineEvent.DeltaOnePrefix}*' type.");
        }

        if (!deltaOne)
        {
            return WebhookBodyRead.Refused(400, $"body is a {shown} event, not a model registration: map the endpoint with "
                + "MapHokusaiWebhookEvents to receive DeltaOne events.");
        }

        if (!signedWithNonce)
        {
            return WebhookBodyRead.Refused(401, $"a {shown} event must be signed the DeltaOne way, with "
                + $"{WebhookHeaders.Timestamp} and {WebhookHeaders.Nonce}");
        }

        var (key, modelId) = DeltaOneEventKey.Identify(eventType, body);
        return new WebhookBodyRead(PipelineEventShape.DeltaOne, eventType, key, modelId, null, 0, null);
    }

    private static WebhookBodyRead Guide(ReadOnlySpan<byte> body)
    {
        if (!ModelRegisteredJson.TryDeserialize(body, out var registration, out var error))
        {
            return WebhookBodyRead.Refused(400, "body is not a model registration: " + error);
        }

        return Registration(PipelineEventShape.Guide, registration, "body is not a model registration: ");
    }

    private static WebhookBodyRead Mlflow(ReadOnlySpan<byte> body)
    {
        if (!MlflowEvent.TryDeserialize(body, null, out var registration, out var error))
        {
            return WebhookBodyRead.Refused(400, "body is not an MLflow event: " + error);
        }

        return Registration(PipelineEventShape.Mlflow, registration, "body is not an MLflow event: ");
    }

    private static WebhookBodyRead Registration(PipelineEventShape shape, ModelRegistered registration, string refusal)
    {
        var errors = ModelRegisteredValidation.Validate(registration);
        if (errors.Count > 0)
        {
            return WebhookBodyRead.Refused(400, refusal + string.Join(" ", errors));
        }

        return new WebhookBodyRead(shape, MlflowEvent.ModelRegisteredType, IdempotencyKey.For(registration), registration.ModelId,
            registration, 0, null);
    }
}
