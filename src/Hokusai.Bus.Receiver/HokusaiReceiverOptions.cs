namespace Hokusai.Bus.Receiver;

/// <summary>
/// How the webhook endpoint verifies and de-duplicates deliveries. Validated when the host starts; the secrets never
/// appear in a validation message, a log line or <see cref="ToString"/>.
/// </summary>
public sealed class HokusaiReceiverOptions
{
    /// <summary>The default <see cref="MaxBodyBytes"/>: 1 MiB.</summary>
    public const long DefaultMaxBodyBytes = SignedRequestLimits.DefaultMaxBodyBytes;

    /// <summary>
    /// The shared secret, the sender's <c>WEBHOOK_SECRET</c>. Required. <c>X-Hokusai-Signature</c> is keyed with its
    /// UTF-8 bytes; Standard Webhooks signatures with its UTF-8 bytes too, or with the base64-decoded key when it is a
    /// <c>whsec_</c> secret.
    /// </summary>
    public string Secret { get; set; } = "";

    /// <summary>
    /// Secrets that are still accepted while the sender moves to <see cref="Secret"/> (rotation). A signature made with
    /// any of them verifies. At most 7, none empty.
    /// </summary>
    public IList<string> PreviousSecrets { get; set; } = [];

    /// <summary>
    /// The largest body accepted; a larger one is answered 413 without being read further. Default 1 MiB. On the
    /// webhook endpoint this replaces the server's own request body limit (Kestrel's <c>MaxRequestBodySize</c>).
    /// </summary>
    public long MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>
    /// The whole body must arrive within this, or the request is cut off with 408 (a sender that trickles its body in,
    /// or stalls, holds no connection for long). Default 10 s, as the host's <c>/ingest</c>.
    /// </summary>
    public TimeSpan BodyTimeout { get; set; } = SignedRequestLimits.DefaultBodyTimeout;

    /// <summary>
    /// False (the default): a valid <c>X-Hokusai-Signature</c> suffices, as the integration guide says; Standard
    /// Webhooks headers, when a delivery has any, must verify too. True: every delivery must also carry valid
    /// <c>webhook-id</c>, <c>webhook-timestamp</c> (within 5 minutes of now) and <c>webhook-signature</c> headers, which
    /// refuses replays of old deliveries.
    /// </summary>
    public bool RequireStandardWebhooks { get; set; }

    /// <summary>
    /// False (the default): <c>MapHokusaiWebhook</c> takes the integration guide's registration only, and answers the
    /// pipeline's MLflow event (<c>event_type: model_registered</c>, what the host sends with
    /// <c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c>) 400, saying so. True: it takes that event too, read as a registration
    /// (<see cref="Contracts.MlflowEvent.TryDeserialize"/>: <c>model.id</c> is both <c>ModelId</c> and <c>TokenSymbol</c>,
    /// <c>model.version</c> the <c>RegisteredVersion</c>, the rest <c>Metadata</c>; it has no metrics), de-duplicated by the
    /// key derived from those fields, since its body carries none. <c>MapHokusaiWebhookEvents</c> takes every shape
    /// whatever this says.
    /// </summary>
    public bool AcceptMlflowEvent { get; set; }

    /// <summary>
    /// How long a processed <c>idempotency_key</c> is remembered: a duplicate within this time is answered
    /// <c>{"status":"already_processed"}</c> without calling the handler. Default 24 hours.
    /// </summary>
    public TimeSpan IdempotencyKeyTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a key stays claimed while its handler runs. A duplicate that arrives meanwhile is answered 409, so the
    /// sender retries later. If the process dies mid-handler, the key becomes free again after this time, so the
    /// sender's retries are not refused for a whole <see cref="IdempotencyKeyTtl"/>. Default 5 minutes.
    /// </summary>
    public TimeSpan ClaimLeaseTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Every setting but the secrets, which are only counted.</summary>
    public override string ToString() =>
        $"HokusaiReceiverOptions(Secret: {(string.IsNullOrEmpty(Secret) ? "unset" : "set")}, "
        + $"PreviousSecrets: {PreviousSecrets?.Count ?? 0}, MaxBodyBytes: {MaxBodyBytes}, BodyTimeout: {BodyTimeout}, "
        + $"RequireStandardWebhooks: {RequireStandardWebhooks}, AcceptMlflowEvent: {AcceptMlflowEvent}, IdempotencyKeyTtl: {IdempotencyKeyTtl}, "
        + $"ClaimLeaseTime: {ClaimLeaseTime})";

    /// <summary><see cref="Secret"/> then <see cref="PreviousSecrets"/>.</summary>
    internal string[] AllSecrets() => [Secret, .. PreviousSecrets ?? []];
}
