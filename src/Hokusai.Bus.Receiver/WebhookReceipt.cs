namespace Hokusai.Bus.Receiver;

/// <summary>How the endpoint answered one delivery.</summary>
public enum WebhookReceiptKind
{
    /// <summary>Verified, parsed, handled once: 200 <c>{"status":"success"}</c>.</summary>
    Processed,

    /// <summary>Its idempotency key was already processed: 200 <c>{"status":"already_processed"}</c>, handler not called.</summary>
    Duplicate,

    /// <summary>A signature is missing, wrong or stale: 401.</summary>
    InvalidSignature,

    /// <summary>The body is over <see cref="HokusaiReceiverOptions.MaxBodyBytes"/>: 413.</summary>
    TooLarge,

    /// <summary>Signed correctly but not a shape the endpoint takes (or not a valid one): 400 with the reason.</summary>
    Invalid,

    /// <summary>Another request holds the key right now: 409, the sender retries.</summary>
    InProgress,

    /// <summary>The idempotency store could not be reached: 503, the sender retries.</summary>
    StoreUnavailable,

    /// <summary>The handler threw: the key is released, 500, the sender retries.</summary>
    HandlerFailed,
}

/// <summary>
/// One delivery as the endpoint saw it, for every <see cref="IWebhookReceiptListener"/>. Values that came from the
/// request are as parsed; the reason never contains a signature or a secret.
/// </summary>
/// <param name="Kind">How it was answered.</param>
/// <param name="StatusCode">The HTTP status the endpoint answered.</param>
/// <param name="IdempotencyKey">The registration's key, once the body was parsed.</param>
/// <param name="ModelId">The registration's model id, once the body was parsed.</param>
/// <param name="Reason">Why it was refused, for the refusals; null otherwise.</param>
public sealed record WebhookReceipt(
    WebhookReceiptKind Kind, int StatusCode, string? IdempotencyKey, string? ModelId, string? Reason)
{
    /// <summary><c>model_registered</c> or a DeltaOne event's type, once the body was read; null for a refusal before that.</summary>
    public string? EventType { get; init; }

    /// <summary>The body's shape (the guide's, the MLflow event, a DeltaOne event), once it was read; null for a refusal before that.</summary>
    public Contracts.PipelineEventShape? Shape { get; init; }
}

/// <summary>
/// Receives every <see cref="WebhookReceipt"/>, synchronously, before the answer is written: keep it quick and never
/// throw. Register it in DI (<c>services.AddSingleton&lt;IWebhookReceiptListener, MyListener&gt;()</c>).
/// </summary>
public interface IWebhookReceiptListener
{
    /// <summary>Called once per delivery the endpoint answers.</summary>
    void Write(WebhookReceipt receipt);
}
