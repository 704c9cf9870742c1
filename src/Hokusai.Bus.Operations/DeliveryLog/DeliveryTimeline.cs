namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>Where one delivery stands.</summary>
public enum DeliveryStatus
{
    /// <summary>Every endpoint it went to accepted it.</summary>
    Delivered,

    /// <summary>An endpoint moved it to <c>_error</c>, and it was not replayed since.</summary>
    Failed,

    /// <summary>No outcome yet at some endpoint: it waits for a retry, in a delay queue, or for its next attempt.</summary>
    Waiting,
}

/// <summary>
/// The story of one registration or event (one idempotency key) in the delivery log, across endpoints, attempts, hosts
/// and replays, in the order it happened.
/// </summary>
public sealed record DeliveryTimeline(string Key, IReadOnlyList<DeliveryRecord> Records)
{
    /// <summary>The model id its records name, if any does.</summary>
    public string? ModelId => Records.Select(r => r.ModelId).FirstOrDefault(m => m is not null);

    /// <summary>Its event type.</summary>
    public string EventType => Records.Count > 0 ? Records[0].EventType : "model_registered";

    /// <summary>The endpoints it went to, in the order they first appear.</summary>
    public IReadOnlyList<string> Endpoints => [.. Records.Select(r => r.Endpoint).Where(e => e.Length > 0).Distinct()];

    /// <summary>The hosts that recorded it.</summary>
    public IReadOnlyList<string> Hosts => [.. Records.Select(r => r.Host).Where(h => h.Length > 0).Distinct()];

    /// <summary>Where it stands at <paramref name="endpoint"/>: by its last outcome there, a replay reopening it.</summary>
    public DeliveryStatus StatusAt(string endpoint)
    {
        for (var i = Records.Count - 1; i >= 0; i--)
        {
            var record = Records[i];
            if (record.Endpoint != endpoint)
            {
                continue;
            }

            switch (record.Kind)
            {
                case DeliveryRecordKind.Delivered:
                case DeliveryRecordKind.Filtered:
                    return DeliveryStatus.Delivered;
                case DeliveryRecordKind.Failed:
                    return DeliveryStatus.Failed;
                case DeliveryRecordKind.Replayed:
                    return DeliveryStatus.Waiting;
            }
        }

        return DeliveryStatus.Waiting;
    }

    /// <summary>Failed if it failed anywhere, else waiting if it waits anywhere (or no endpoint has it yet), else delivered.</summary>
    public DeliveryStatus Status
    {
        get
        {
            var endpoints = Endpoints;
            if (endpoints.Count == 0)
            {
                return DeliveryStatus.Waiting;
            }

            var statuses = endpoints.Select(StatusAt).ToList();
            return statuses.Contains(DeliveryStatus.Failed) ? DeliveryStatus.Failed
                : statuses.Contains(DeliveryStatus.Waiting) ? DeliveryStatus.Waiting
                : DeliveryStatus.Delivered;
        }
    }

    /// <summary>When it is next tried, if it waits: the latest retry or end of a wait recorded for an endpoint it waits at.</summary>
    public DateTimeOffset? NextTry => Endpoints.Where(e => StatusAt(e) == DeliveryStatus.Waiting)
        .Select(e => Records.LastOrDefault(r => r.Endpoint == e && r.NextAt is not null)?.NextAt)
        .Max();

    /// <summary>The timelines of <paramref name="records"/>, one per key, in the order each key first appears.</summary>
    public static IReadOnlyList<DeliveryTimeline> Of(IEnumerable<DeliveryRecord> records)
    {
        var byKey = new Dictionary<string, List<DeliveryRecord>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var record in records)
        {
            if (!byKey.TryGetValue(record.Key, out var list))
            {
                byKey[record.Key] = list = [];
                order.Add(record.Key);
            }

            list.Add(record);
        }

        return [.. order.Select(key => new DeliveryTimeline(key, byKey[key].OrderBy(r => r.At).ToList()))];
    }
}
