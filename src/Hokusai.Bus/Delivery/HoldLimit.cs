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

    private TimeSpan? _cap;

    /// <summary>Lowered after an acknowledgement timeout; <see langword="null"/> until one.</summary>
    public TimeSpan? Cap
    {
        get
        {
            lock (_gate)
            {
                return _cap;
            }
        }
    }

    /// <summary>The hold for an endpoint whose setting is <paramref name="configured"/>.</summary>
    public TimeSpan Of(TimeSpan configured) => Cap is { } cap && cap < configured ? cap : configured;

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

            var current = _cap is { } cap && cap < configured ? cap : configured;
            if (held <= TimeSpan.Zero || held > current)
            {
                held = current; // nothing seen held: take the limit itself as what was held
            }

            var limit = held / 2 < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : held / 2;
            _cap = limit < current ? limit : current;
            return (held, _cap.Value);
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
