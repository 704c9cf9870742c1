namespace Hokusai.Bus.Contracts;

/// <summary>
/// One event exactly as the Hokusai pipeline sent it to the host's <c>POST /ingest</c>: a registration (the MLflow event
/// or the guide's payload) or a DeltaOne event (<c>deltaone.achieved</c>, <c>deltaone.minted</c>,
/// <c>deltaone.reward_ingest_failed</c>). It keeps the exact bytes received, so an endpoint that takes the shape the
/// event arrived in is sent those bytes unaltered, keys the host does not know included. Its full name,
/// <c>Hokusai.Bus.Contracts.PipelineEvent</c>, is its identity on RabbitMQ (exchange
/// <c>Hokusai.Bus.Contracts:PipelineEvent</c>): never rename or move it.
/// </summary>
public sealed record PipelineEvent
{
    /// <summary>The event's type: <c>model_registered</c>, or a <c>deltaone.*</c> type, as its body's <c>event_type</c> says.</summary>
    public string EventType { get; init => field = value ?? ""; } = "";

    /// <summary>Which shape <see cref="Body"/> has.</summary>
    public PipelineEventShape Shape { get; init; }

    /// <summary>The request body, byte for byte as received and verified.</summary>
    public byte[] Body { get; init => field = value ?? []; } = [];

    /// <summary>The model it is about: a registration's <c>model_id</c> (for the MLflow event, <c>model.id</c>), or a DeltaOne event's <c>model_id</c>; null when it names none.</summary>
    public string? ModelId { get; init; }

    /// <summary>When the host received it.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>
    /// Stable for one event, the same for the pipeline's retries and for every delivery attempt: a registration's key
    /// (<see cref="Contracts.IdempotencyKey.For(ModelRegistered)"/>), or a DeltaOne event's (<see cref="DeltaOneEventKey.For"/>).
    /// </summary>
    public string IdempotencyKey { get; init => field = value ?? ""; } = "";

    /// <summary>The event type of every registration.</summary>
    public const string ModelRegisteredType = MlflowEvent.ModelRegisteredType;

    /// <summary>What every DeltaOne event type starts with.</summary>
    public const string DeltaOnePrefix = "deltaone.";

    /// <summary>
    /// The registration a <see cref="PipelineEventShape.Guide"/> or <see cref="PipelineEventShape.Mlflow"/> body holds,
    /// read with that shape's reader, under this event's <see cref="IdempotencyKey"/>.
    /// </summary>
    /// <exception cref="InvalidModelRegistrationException">The body is not a valid registration; the reason names the field.</exception>
    /// <exception cref="InvalidOperationException">This is a DeltaOne event, which holds no registration.</exception>
    public ModelRegistered ToRegistration()
    {
        ModelRegistered? registration;
        string? error;
        switch (Shape)
        {
            case PipelineEventShape.Mlflow:
                // Already accepted: an event an older host took with a number in a string field is still delivered.
                MlflowEvent.TryDeserialize(Body, IdempotencyKey.Length > 0 ? IdempotencyKey : null, numbersAsText: true, out registration, out error);
                break;
            case PipelineEventShape.Guide:
                ModelRegisteredJson.TryDeserialize(Body, out registration, out error);
                break;
            default:
                throw new InvalidOperationException($"A {Shape} event holds no registration.");
        }

        if (registration is null)
        {
            throw new InvalidModelRegistrationException([error ?? "the body is not a registration."]);
        }

        registration = registration with { IdempotencyKey = IdempotencyKey.Length > 0 ? IdempotencyKey : Contracts.IdempotencyKey.For(registration) };
        ModelRegisteredValidation.EnsureValid(registration);
        return registration;
    }

    /// <summary>Whether <paramref name="eventType"/> names a DeltaOne event.</summary>
    public static bool IsDeltaOne(string? eventType) =>
        eventType is { Length: > 9 } && eventType.StartsWith(DeltaOnePrefix, StringComparison.Ordinal);
}

/// <summary>The shape of a <see cref="PipelineEvent"/>'s body.</summary>
public enum PipelineEventShape
{
    /// <summary>The integration guide's registration payload (<c>model_id</c>, <c>token_symbol</c>, ...).</summary>
    Guide = 0,

    /// <summary>The pipeline's "original MLflow event" (<c>event_type: model_registered</c>, <c>model</c>, ...).</summary>
    Mlflow = 1,

    /// <summary>A DeltaOne event: <c>json.dumps(payload, separators=(",", ":"), sort_keys=True)</c>, signed per attempt.</summary>
    DeltaOne = 2,
}
