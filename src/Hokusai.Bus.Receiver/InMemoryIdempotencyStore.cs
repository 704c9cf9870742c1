namespace Hokusai.Bus.Receiver;

/// <summary>
/// The default store: one process's memory, expiry by <see cref="TimeProvider"/>. Lost on restart and not shared
/// between instances; use the Redis store when more than one instance receives.
/// </summary>
internal sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <summary>Number of keys held, expired ones included until the next sweep (for tests).</summary>
    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public ValueTask<IdempotencyClaimResult> TryClaimAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(owner);
        lock (_gate)
        {
            var now = time.GetUtcNow();
            Sweep(now);
            if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt > now)
            {
                return ValueTask.FromResult(entry.Owner is null
                    ? IdempotencyClaimResult.AlreadyProcessed
                    : IdempotencyClaimResult.InProgress);
            }

            _entries[key] = new Entry(owner, now + lease);
            return ValueTask.FromResult(IdempotencyClaimResult.Claimed);
        }
    }

    public ValueTask MarkProcessedAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            _entries[key] = new Entry(null, time.GetUtcNow() + ttl);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry) && string.Equals(entry.Owner, owner, StringComparison.Ordinal))
            {
                _entries.Remove(key);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + SweepInterval;
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.Remove(key); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
    }

    /// <summary>A claim (owner set) or a processed key (owner null), and when it lapses.</summary>
    private readonly record struct Entry(string? Owner, DateTimeOffset ExpiresAt);
}
