namespace Hokusai.Bus.Host.Ingest;

/// <summary>
/// <c>POST /ingest</c>: registrations over HTTP, for producers that cannot publish to RabbitMQ (the Python pipeline).
/// Bound from configuration section <c>Hokusai:Ingest</c> by <see cref="IngestOptionsSetup"/> (the host maps
/// <c>INGEST_*</c> onto it), checked by <see cref="IngestOptionsValidator"/> at start. On only when a secret is set.
/// </summary>
public sealed class IngestOptions
{
    public const string SectionName = "Hokusai:Ingest";

    /// <summary>The largest <see cref="MaxBodyBytes"/> accepted: 16 MiB.</summary>
    public const int MaxBodyBytesLimit = 16 * 1024 * 1024;

    /// <summary><c>INGEST_SECRET</c> (or <c>_FILE</c>): the HMAC-SHA256 key producers sign with. Never logged.</summary>
    public string? Secret { get; set; }

    /// <summary><c>INGEST_ROTATION_SECRETS</c> (or <c>_FILE</c>): further secrets accepted while producers move to a new one.</summary>
    public IReadOnlyList<string> RotationSecrets { get; set; } = [];

    /// <summary><c>INGEST_MAX_BODY_BYTES</c>: a larger body is refused with 413. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary><c>INGEST_BODY_TIMEOUT</c>: the whole body must arrive within this; a body that trickles in or stalls is cut off (408). 10 s.</summary>
    public TimeSpan BodyTimeout { get; set; } = Hokusai.Bus.Receiver.SignedRequestLimits.DefaultBodyTimeout;

    /// <summary>How long a publish may wait for RabbitMQ's confirm before the answer is 503. 10 s.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>Retry-After</c> of a 503. 5 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    public bool Enabled => !string.IsNullOrEmpty(Secret);
}
