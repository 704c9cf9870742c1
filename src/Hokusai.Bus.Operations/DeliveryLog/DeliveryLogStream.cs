using RabbitMQ.Client;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>
/// The RabbitMQ stream the delivery log is kept in (<c>x-queue-type: stream</c>: no plugin needed, replicated across a
/// cluster's nodes), with its retention: records older than <see cref="MaxAge"/> go, and the oldest go first once the
/// stream holds <see cref="MaxBytes"/>. RabbitMQ removes whole segments, so a little more may be kept.
/// </summary>
/// <param name="Name">The stream's name: <c>hokusai-delivery-log</c>.</param>
/// <param name="MaxAge">How long records are kept: 7 days by default.</param>
/// <param name="MaxBytes">The most the stream holds: 1 GiB by default.</param>
public sealed record DeliveryLogStream(string Name = DeliveryLogStream.DefaultName, TimeSpan? MaxAge = null, long MaxBytes = DeliveryLogStream.DefaultMaxBytes)
{
    public const string DefaultName = "hokusai-delivery-log";

    public const long DefaultMaxBytes = 1L << 30;

    /// <summary>A segment file's size: small enough that retention works in steps of at most this much.</summary>
    public const long SegmentBytes = 16L << 20;

    /// <summary>The retention age.</summary>
    public TimeSpan Age => MaxAge ?? TimeSpan.FromDays(7);

    /// <summary>Declares the stream (idempotent while the arguments stay the same).</summary>
    public Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var arguments = new Dictionary<string, object?>
        {
            ["x-queue-type"] = "stream",
            ["x-max-age"] = $"{Math.Max(1, (long)Math.Ceiling(Age.TotalSeconds))}s",
            ["x-max-length-bytes"] = MaxBytes,
            ["x-stream-max-segment-size-bytes"] = Math.Min(SegmentBytes, Math.Max(1L << 20, MaxBytes / 8)),
        };
        return channel.QueueDeclareAsync(Name, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken);
    }
}
