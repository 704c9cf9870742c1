using System.ComponentModel.DataAnnotations;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>
/// Webhook delivery settings, bound from configuration section <c>Hokusai:Webhook</c> (keys named like the properties;
/// durations in seconds, fractions allowed), then from the application's <c>configure</c> action, and validated at
/// start-up. The plugin knows no environment-variable names: the host maps the integration guide's variables (named in
/// each property's doc) onto this section.
/// </summary>
public sealed class HokusaiWebhookOptions
{
    /// <summary>The configuration section bound besides the guide's variables.</summary>
    public const string SectionName = "Hokusai:Webhook";

    /// <summary><c>WEBHOOK_URL</c>: where registrations are POSTed. Required; absolute http or https.</summary>
    [Required(ErrorMessage = "is required: the receiver's absolute http or https URL.")]
    public Uri? Url { get; set; }

    /// <summary><c>WEBHOOK_SECRET</c>: the HMAC-SHA256 key. Required. Never logged.</summary>
    [Required(ErrorMessage = "is required and must not be empty or only spaces.")]
    public string Secret { get; set; } = "";

    /// <summary><c>WEBHOOK_TIMEOUT</c>: the limit of one HTTP attempt. Default 30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>WEBHOOK_MAX_RETRIES</c>: retries after the first attempt, so at most 1 + this many attempts. Default 5.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 5;

    /// <summary><c>WEBHOOK_RETRY_DELAY</c>: the first retry's delay, doubled for each next one (2, 4, 8, 16, 32 s). Default 2 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary><c>WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD</c>: consecutive failed attempts that open the breaker. Default 5.</summary>
    [Range(1, 1000)]
    public int CircuitBreakerFailureThreshold { get; set; } = 5;

    /// <summary><c>WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME</c>: how long an open breaker sends nothing. Default 60 s.</summary>
    public TimeSpan CircuitBreakerRecoveryTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>WEBHOOK_CONCURRENCY</c>: deliveries in flight at once per host (not in the guide). Default 32: against an
    /// endpoint answering in 20 ms that is 29x the sequential sender (16 gave 15x), for 8 MB more memory and at most
    /// 32 messages held per host during an outage (docs/PERFORMANCE.md).
    /// </summary>
    [Range(1, 1000)]
    public int Concurrency { get; set; } = 32;

    /// <summary>
    /// <c>WEBHOOK_ALLOW_HTTP</c>: also allow a plain <c>http://</c> URL to a host that is not loopback (a private
    /// network). Default false: <c>https://</c> only, plus <c>http://</c> to localhost, 127.0.0.0/8 and ::1 for local
    /// work, since a delivery carries a signed registration and its signature.
    /// </summary>
    public bool AllowHttp { get; set; }

    /// <summary><c>WEBHOOK_SIGNATURE_FORMAT</c>: <c>hex</c> (the guide's, default) or <c>sha256</c> for <c>sha256=&lt;hex&gt;</c>.</summary>
    public SignatureFormat SignatureFormat { get; set; } = SignatureFormat.Hex;

    /// <summary>
    /// <c>WEBHOOK_PAYLOAD_FORMAT</c> (not in the guide): the body this endpoint receives. <see cref="WebhookPayloadFormat.Guide"/>
    /// (default) or <see cref="WebhookPayloadFormat.Mlflow"/>, the pipeline's "original MLflow event" that the Hokusai site
    /// reads, sent exactly as the pipeline sends it (<c>sha256=</c> signature, its User-Agent; <see cref="SignatureFormat"/>
    /// does not apply).
    /// </summary>
    public WebhookPayloadFormat PayloadFormat { get; set; } = WebhookPayloadFormat.Guide;

    /// <summary>
    /// <c>WEBHOOK_STANDARD_SIGNATURES</c>: also send the Standard Webhooks headers <c>webhook-id</c> (the idempotency key),
    /// <c>webhook-timestamp</c> and <c>webhook-signature</c>, for receivers with replay protection. Default false;
    /// <c>X-Hokusai-Signature</c> is always sent.
    /// </summary>
    public bool StandardSignatures { get; set; }

    /// <summary>
    /// <c>WEBHOOK_ROTATION_SECRETS</c>: comma-separated further secrets, each adding a <c>v1,</c> entry to
    /// <c>webhook-signature</c> while receivers move to a new secret. Never logged.
    /// </summary>
    public IReadOnlyList<string> RotationSecrets { get; set; } = [];

    /// <summary>
    /// <c>WEBHOOK_MAX_HOLD</c> (not in the guide): the longest one message is held unacknowledged by the host, waits
    /// and attempts included. A wait that would go past it (a long backoff, a long <c>Retry-After</c>, an open breaker)
    /// happens in RabbitMQ instead, in a delay queue. Default 5 min; at most 20 min, well under RabbitMQ's 30 min
    /// <c>consumer_timeout</c>, and more than <see cref="Timeout"/>.
    /// </summary>
    public TimeSpan MaxHold { get; set; } = DefaultMaxHold;

    /// <summary>The default <see cref="MaxHold"/>: 5 minutes.</summary>
    internal static readonly TimeSpan DefaultMaxHold = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Which registrations this endpoint receives (<c>Filter:TokenSymbols</c>, <c>Filter:Tags:&lt;name&gt;</c>); every one
    /// by default. Never inherited: a named endpoint's filter is its own.
    /// </summary>
    public WebhookFilter Filter { get; set; } = new();

    /// <summary>
    /// <c>WEBHOOK_EVENT_TYPES</c> (not in the guide): the event types this endpoint receives, <c>model_registered</c>
    /// and any of the pipeline's <c>deltaone.*</c> types (<c>deltaone.achieved</c>, <c>deltaone.minted</c>,
    /// <c>deltaone.reward_ingest_failed</c>); comma-separated in configuration. Default <c>model_registered</c> only.
    /// Never inherited: a named endpoint's are its own. A DeltaOne event is sent as the pipeline sent it, body byte for
    /// byte, signed per attempt with a fresh timestamp and nonce (<see cref="DeltaOneSigner"/>).
    /// </summary>
    public IReadOnlyList<string> EventTypes { get; set; } = [PipelineEvent.ModelRegisteredType];

    /// <summary>Whether this endpoint receives events of <paramref name="eventType"/>.</summary>
    internal bool Subscribes(string eventType) => EventTypes.Contains(eventType, StringComparer.Ordinal);

    /// <summary>The longest <c>Retry-After</c> honoured (the wait then lives in RabbitMQ). 1 hour.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The body a webhook endpoint receives.</summary>
public enum WebhookPayloadFormat
{
    /// <summary>The integration guide's payload (<c>model_id</c>, <c>idempotency_key</c>, ..., <c>metadata</c>). The default.</summary>
    Guide = 0,

    /// <summary>The pipeline's "original MLflow event" (<c>event_type</c>, <c>model</c>, <c>timestamp</c>, <c>source</c>), which the Hokusai site reads.</summary>
    Mlflow = 1,
}
