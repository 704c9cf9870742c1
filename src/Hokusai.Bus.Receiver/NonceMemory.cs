using System.Collections.Concurrent;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// The <c>X-Hokusai-Nonce</c> values seen lately, so a DeltaOne-signed request sent again (a replay) is refused while its
/// timestamp would still pass: each nonce is remembered for twice the timestamp tolerance (a timestamp may be that far in
/// the future, then stay valid that long). In memory, in this process only; at most <see cref="Capacity"/> nonces, the
/// oldest forgotten first beyond that. Thread-safe.
/// </summary>
public sealed class NonceMemory
{
    /// <summary>The default <see cref="Capacity"/>: 200,000 nonces, about 40 MB.</summary>
    public const int DefaultCapacity = 200_000;

    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Nonce, long Until)> _order = new();
    private readonly TimeProvider _time;
    private readonly long _keepTicks;

    /// <summary>Remembers nonces for twice <paramref name="tolerance"/> (5 minutes by default).</summary>
    public NonceMemory(TimeSpan? tolerance = null, TimeProvider? time = null, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time ?? TimeProvider.System;
        _keepTicks = (tolerance ?? TimeSpan.FromMinutes(5)).Ticks * 2;
        Capacity = capacity;
    }

    /// <summary>The most nonces remembered at once.</summary>
    public int Capacity { get; }

    /// <summary>How long a nonce is remembered.</summary>
    public TimeSpan Window => TimeSpan.FromTicks(_keepTicks);

    /// <summary>Remembers <paramref name="nonce"/>; false when it was already seen within <see cref="Window"/> (a replay).</summary>
    public bool TryRemember(string nonce)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        var now = _time.GetUtcNow().UtcTicks;
        Forget(now);
        var until = now + _keepTicks;
        if (!_seen.TryAdd(nonce, until))
        {
            return false;
        }

        _order.Enqueue((nonce, until));
        return true;
    }

    /// <summary>Forgets what has expired, and the oldest beyond <see cref="Capacity"/>.</summary>
    private void Forget(long now)
    {
        while (_order.TryPeek(out var oldest) && (oldest.Until <= now || _seen.Count >= Capacity))
        {
            if (_order.TryDequeue(out oldest))
            {
                _seen.TryRemove(KeyValuePair.Create(oldest.Nonce, oldest.Until));
            }
        }
    }
}
