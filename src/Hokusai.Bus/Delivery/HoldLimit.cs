namespace Hokusai.Bus;

/// <summary>
/// The longest this host holds a message unacknowledged: each endpoint's <c>MaxHold</c>, until RabbitMQ closes a channel
/// for an acknowledgement timeout (its <c>consumer_timeout</c> is shorter than the hold). From then on the host holds no
/// longer than half of what was held when that happened, so the broker stops closing channels without a restart.
/// </summary>
internal sealed class HoldLimit(TimeProvider time)
{
    private readonly Lock _gate = new();

    /// <summary>When each message now held started being held (timestamps), oldest first.</summary>
    private readonly LinkedList<long> _held = new();

    /// <summary>The longest hold that ended lately: the timed-out message may be released just before the fault is seen.</summary>
    private (TimeSpan Held, long EndedAt) _lastLongest;

    /// <summary>The cap in ticks, <see cref="long.MaxValue"/> until an acknowledgement timeout: read on every delivery without the lock.</summary>
    private long _capTicks = long.MaxValue;

    /// <summary>Lowered after an acknowledgement timeout; <see langword="null"/> until one.</summary>
    public TimeSpan? Cap => Volatile.Read(ref _capTicks) is var ticks and not long.MaxValue ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>The hold for an endpoint whose setting is <paramref name="configured"/>.</summary>
    public TimeSpan Of(TimeSpan configured) => Volatile.Read(ref _capTicks) is var ticks && ticks < configured.Ticks ? TimeSpan.FromTicks(ticks) : configured;

    /// <summary>Marks a message as held until the returned scope is disposed.</summary>
    public Scope Hold()
    {
        lock (_gate)
        {
            return new Scope(this, _held.AddLast(time.GetTimestamp()));
        }
    }

    /// <summary>
    /// RabbitMQ closed a channel for an acknowledgement timeout: from now on hold at most half of the longest hold in
    /// progress (or just ended), never below a second. Returns that hold and the new limit.
    /// </summary>
    public (TimeSpan Held, TimeSpan Limit) AcknowledgementTimedOut(TimeSpan configured)
    {
        lock (_gate)
        {
            var held = _held.First is { } oldest ? time.GetElapsedTime(oldest.Value) : TimeSpan.Zero;
            if (time.GetElapsedTime(_lastLongest.EndedAt) < TimeSpan.FromMinutes(1) && _lastLongest.Held > held)
            {
                held = _lastLongest.Held;
            }

            var current = Of(configured);
            if (held <= TimeSpan.Zero || held > current)
            {
                held = current; // nothing seen held: take the limit itself as what was held
            }

            var limit = held / 2 < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : held / 2;
            var cap = limit < current ? limit : current;
            Volatile.Write(ref _capTicks, cap.Ticks);
            return (held, cap);
        }
    }

    private void Release(LinkedListNode<long> node)
    {
        lock (_gate)
        {
            _held.Remove(node);
            var held = time.GetElapsedTime(node.Value);
            var now = time.GetTimestamp();
            if (held > _lastLongest.Held || time.GetElapsedTime(_lastLongest.EndedAt, now) > TimeSpan.FromMinutes(1))
            {
                _lastLongest = (held, now);
            }
        }
    }

    /// <summary>One message held; disposing it releases it.</summary>
    public readonly struct Scope(HoldLimit limit, LinkedListNode<long> node) : IDisposable
    {
        public void Dispose() => limit.Release(node);
    }
}
