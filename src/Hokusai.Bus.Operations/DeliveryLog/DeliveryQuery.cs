namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>
/// What <c>hokusai-bus deliveries</c> and <c>GET /deliveries</c> ask of the log: the timelines of the deliveries that
/// match every criterion given. <see cref="Since"/> is where reading starts (24 hours ago unless given).
/// </summary>
public sealed record DeliveryQuery
{
    public string? Key { get; init; }

    public string? ModelId { get; init; }

    /// <summary>Only this endpoint's records (and what happened before any endpoint: acceptance at ingest).</summary>
    public string? Endpoint { get; init; }

    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    public DeliveryStatus? Status { get; init; }

    /// <summary>Where reading starts when <see cref="Since"/> is not given: this long ago.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// A point in time as <c>--since</c>, <c>--until</c> and the API take it: ISO 8601 (<c>2026-12-06T10:00:00Z</c>), or
    /// a span back from <paramref name="now"/> (<c>30m</c>, <c>24h</c>, <c>7d</c>, <c>90s</c>). False for anything else.
    /// </summary>
    public static bool TryParseTime(string? text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        var unit = text[^1] switch { 's' => 1d, 'm' => 60d, 'h' => 3600d, 'd' => 86400d, _ => 0d };
        if (unit > 0 && double.TryParse(text[..^1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var count)
            && double.IsFinite(count) && count >= 0 && count * unit < 3650 * 86400d)
        {
            time = now - TimeSpan.FromSeconds(count * unit);
            return true;
        }

        return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out time);
    }

    /// <summary>Where reading starts.</summary>
    public DateTimeOffset From(DateTimeOffset now) => Since ?? now - DefaultWindow;

    /// <summary>Whether <paramref name="record"/> can belong to a matching timeline (the per-record criteria).</summary>
    public bool Admits(DeliveryRecord record) =>
        (Key is null || string.Equals(Key, record.Key, StringComparison.Ordinal))
        && (Until is null || record.At <= Until)
        && (Endpoint is null || record.Endpoint.Length == 0 || string.Equals(Endpoint, record.Endpoint, StringComparison.Ordinal));

    /// <summary>The matching timelines of <paramref name="records"/>.</summary>
    public async Task<IReadOnlyList<DeliveryTimeline>> ApplyAsync(IAsyncEnumerable<DeliveryRecord> records, CancellationToken cancellationToken = default)
    {
        var admitted = new List<DeliveryRecord>();
        await foreach (var record in records.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (Admits(record))
            {
                admitted.Add(record);
            }
        }

        return [.. DeliveryTimeline.Of(admitted).Where(Matches)];
    }

    /// <summary>The per-timeline criteria: model id and status.</summary>
    public bool Matches(DeliveryTimeline timeline) =>
        (ModelId is null || string.Equals(ModelId, timeline.ModelId, StringComparison.Ordinal))
        && (Status is null || timeline.Status == Status)
        && (Endpoint is null || timeline.Endpoints.Contains(Endpoint));
}
