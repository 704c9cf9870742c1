namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>One endpoint's figures over a stretch of the log (<c>hokusai-bus deliveries stats</c>).</summary>
/// <param name="Endpoint">The endpoint's name.</param>
/// <param name="Delivered">Deliveries it accepted.</param>
/// <param name="Failed">Deliveries moved to its <c>_error</c>.</param>
/// <param name="Retried">Retries scheduled, and waits handed to RabbitMQ.</param>
/// <param name="Attempts">HTTP attempts made.</param>
/// <param name="P50Ms">The median attempt's latency.</param>
/// <param name="P99Ms">The 99th percentile attempt's latency.</param>
/// <param name="DeliveredByHour">Deliveries per hour, oldest first (the hour's start in UTC, and the count).</param>
public sealed record EndpointStats(
    string Endpoint, long Delivered, long Failed, long Retried, long Attempts, double P50Ms, double P99Ms,
    IReadOnlyList<(DateTimeOffset Hour, long Delivered)> DeliveredByHour)
{
    /// <summary>Each endpoint's figures over <paramref name="records"/>, by endpoint name.</summary>
    public static async Task<IReadOnlyList<EndpointStats>> OfAsync(IAsyncEnumerable<DeliveryRecord> records, CancellationToken cancellationToken = default)
    {
        var byEndpoint = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        await foreach (var record in records.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (record.Endpoint.Length == 0)
            {
                continue;
            }

            if (!byEndpoint.TryGetValue(record.Endpoint, out var stats))
            {
                byEndpoint[record.Endpoint] = stats = new Accumulator();
            }

            stats.Add(record);
        }

        return [.. byEndpoint.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value.ToStats(e.Key))];
    }

    private sealed class Accumulator
    {
        private readonly List<double> _latencies = [];
        private readonly SortedDictionary<DateTimeOffset, long> _hours = [];
        private long _delivered, _failed, _retried;

        public void Add(DeliveryRecord record)
        {
            switch (record.Kind)
            {
                case DeliveryRecordKind.Delivered:
                    _delivered++;
                    var hour = new DateTimeOffset(record.At.UtcDateTime.Date.AddHours(record.At.UtcDateTime.Hour), TimeSpan.Zero);
                    _hours[hour] = _hours.GetValueOrDefault(hour) + 1;
                    break;
                case DeliveryRecordKind.Failed:
                    _failed++;
                    break;
                case DeliveryRecordKind.RetryScheduled or DeliveryRecordKind.Deferred:
                    _retried++;
                    break;
                case DeliveryRecordKind.Attempt when record.LatencyMs is { } latency:
                    _latencies.Add(latency);
                    break;
            }
        }

        public EndpointStats ToStats(string endpoint)
        {
            _latencies.Sort();
            double At(double p) => _latencies.Count == 0 ? 0 : _latencies[Math.Min(_latencies.Count - 1, (int)Math.Ceiling(p * _latencies.Count) - 1)];
            return new EndpointStats(endpoint, _delivered, _failed, _retried, _latencies.Count, At(0.5), At(0.99),
                [.. _hours.Select(h => (h.Key, h.Value))]);
        }
    }
}
