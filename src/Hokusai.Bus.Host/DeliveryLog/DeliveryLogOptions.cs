namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>
/// The delivery log (configuration section <c>Hokusai:DeliveryLog</c>; the host maps <c>DELIVERY_LOG*</c> onto it): every
/// decision about every delivery, kept in a RabbitMQ stream, read by <c>hokusai-bus deliveries</c> and <c>GET /deliveries</c>.
/// </summary>
public sealed class DeliveryLogOptions
{
    public const string SectionName = "Hokusai:DeliveryLog";

    /// <summary><c>DELIVERY_LOG</c>: on by default; false writes nothing and serves no <c>/deliveries</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>DELIVERY_LOG_MAX_AGE</c>: how long records are kept, in days (fractions allowed). Default 7.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary><c>DELIVERY_LOG_MAX_BYTES</c>: the most the stream holds; the oldest go first. Default 1073741824 (1 GiB).</summary>
    public long MaxBytes { get; set; } = Operations.DeliveryLog.DeliveryLogStream.DefaultMaxBytes;

    /// <summary>
    /// <c>DELIVERY_LOG_TOKEN</c> (or <c>_FILE</c>): the bearer token <c>GET /deliveries</c> requires; without one, the
    /// host serves no <c>/deliveries</c>. Never logged.
    /// </summary>
    public string? Token { get; set; }
}
