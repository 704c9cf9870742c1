using System.Collections.Concurrent;

namespace Hokusai.Bus;

/// <summary>
/// How one endpoint is doing, as this host sees it, for the metrics <c>hokusai_endpoint_failing_seconds</c> (how long its
/// attempts have failed since its last success; 0 while healthy) and <c>hokusai_oldest_waiting_seconds</c> (the age of
/// the oldest delivery this host has waiting for it: a retry's delay in the host, or a wait it handed to RabbitMQ, that
/// has not reached an outcome here). A wait another host finishes is forgotten a minute after its next try was due.
/// </summary>
internal sealed class EndpointHealth(TimeProvider time)
{
    /// <summary>The most waiting deliveries remembered: beyond, the newest are not tracked (the oldest are what matter).</summary>
    private const int MaxTracked = 100_000;

    private static readonly TimeSpan Forget = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, (DateTimeOffset Since, DateTimeOffset Until)> _waiting = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _failingSince;

    /// <summary>An attempt ended: a 2xx, or a refusal for what the message is (the endpoint is up), ends a failing spell.</summary>
    public void Attempted(bool endpointUp)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (endpointUp)
            {
                (_lastSuccess, _failingSince) = (now, null);
            }
            else
            {
                _failingSince ??= _lastSuccess ?? now;
            }
        }
    }

    /// <summary>A delivery waits for its next try, due in <paramref name="delay"/>.</summary>
    public void Waits(string key, TimeSpan delay)
    {
        var now = time.GetUtcNow();
        if (_waiting.Count < MaxTracked || _waiting.ContainsKey(key))
        {
            _waiting.AddOrUpdate(key, (now, now + delay + Forget), (_, was) => (was.Since, now + delay + Forget));
        }
    }

    /// <summary>A delivery reached its outcome here.</summary>
    public void Ended(string key) => _waiting.TryRemove(key, out _);

    /// <summary>Seconds since the last success while attempts fail; 0 when the last attempt succeeded (or none was made).</summary>
    public double FailingSeconds
    {
        get
        {
            lock (_gate)
            {
                return _failingSince is { } since ? (time.GetUtcNow() - since).TotalSeconds : 0;
            }
        }
    }

    /// <summary>The age in seconds of the oldest delivery waiting here; 0 when none waits.</summary>
    public double OldestWaitingSeconds
    {
        get
        {
            var now = time.GetUtcNow();
            var oldest = now;
            foreach (var (key, (since, until)) in _waiting)
            {
                if (until < now)
                {
                    _waiting.TryRemove(key, out _);
                }
                else if (since < oldest)
                {
                    oldest = since;
                }
            }

            return (now - oldest).TotalSeconds;
        }
    }
}
