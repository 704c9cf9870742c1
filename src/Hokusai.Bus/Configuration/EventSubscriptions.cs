namespace Hokusai.Bus;

/// <summary>
/// Which event types this host delivers somewhere: every webhook endpoint's <c>EventTypes</c>, plus what other consumers
/// on the bus declare (<see cref="Add"/>; the Redis fallback takes <c>model_registered</c>). A producer over HTTP (the
/// host's <c>/ingest</c>) asks it before accepting an event, so one that nothing takes is refused rather than
/// acknowledged and dropped.
/// </summary>
public sealed class EventSubscriptions
{
    private readonly HashSet<string> _types = new(StringComparer.Ordinal);

    internal EventSubscriptions(WebhookEndpointSet endpoints, IEnumerable<EventSubscription> others)
    {
        foreach (var endpoint in endpoints.All)
        {
            _types.UnionWith(endpoint.Settings.EventTypes);
        }

        _types.UnionWith(others.Select(o => o.EventType));
    }

    /// <summary>Every event type subscribed to, in order.</summary>
    public IReadOnlyList<string> EventTypes => [.. _types.Order(StringComparer.Ordinal)];

    /// <summary>Whether some endpoint or consumer takes events of <paramref name="eventType"/>.</summary>
    public bool Subscribes(string eventType) => _types.Contains(eventType);

    /// <summary>Declares that a consumer other than the webhook endpoints takes <paramref name="eventType"/>: register the result as a singleton.</summary>
    public static EventSubscription Add(string eventType) => new(eventType);
}
