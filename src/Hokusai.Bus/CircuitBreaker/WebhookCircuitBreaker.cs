namespace Hokusai.Bus;

/// <summary>
/// A consecutive-failure breaker for one webhook destination. Unlike a breaker that fails calls fast, callers
/// <em>wait</em> for a permit, for as long as they choose: while it is open no request is made and no retry is used up.
/// A message waits here no longer than its hold allows, then in a RabbitMQ delay queue (see <see cref="WebhookDelivery"/>).
/// With a fleet (<see cref="BreakerFleet"/>), what happens here is told to the other hosts and what they tell is applied
/// (<see cref="Heard"/>): failures count toward one threshold, and while open only the host that opened it makes the
/// trial; the others follow for the recovery time plus <c>followGrace</c>, then try themselves if they heard nothing.
/// </summary>
internal sealed class WebhookCircuitBreaker
{
    private readonly object _gate = new();
    private readonly int _threshold;
    private readonly TimeSpan _recoveryTime;
    private readonly TimeProvider _time;
    private readonly Action<WebhookCircuitState, WebhookCircuitState>? _onTransition;
    private readonly TimeSpan _followGrace;
    private Action<WebhookBreakerSignalKind, TimeSpan>? _tell;

    private WebhookCircuitState _state = WebhookCircuitState.Closed;
    private int _consecutiveFailures;
    private DateTimeOffset _openUntil;
    private TaskCompletionSource _changed = NewSignal();
    private DateTimeOffset? _lastSuccessAt;
    private int _waiting;

    /// <summary>Open because another host opened it: that host makes the trial, this one waits to hear how it went.</summary>
    private bool _following;

    public WebhookCircuitBreaker(
        int failureThreshold,
        TimeSpan recoveryTime,
        TimeProvider time,
        Action<WebhookCircuitState, WebhookCircuitState>? onTransition = null,
        TimeSpan followGrace = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failureThreshold, 1);
        _followGrace = followGrace;
        _threshold = failureThreshold;
        _recoveryTime = recoveryTime;
        _time = time;
        _onTransition = onTransition;
    }

    public WebhookCircuitState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>When a delivery to this destination last succeeded, or null if none has since the host started.</summary>
    public DateTimeOffset? LastSuccessAt
    {
        get
        {
            lock (_gate)
            {
                return _lastSuccessAt;
            }
        }
    }

    /// <summary>Callers waiting for a permit right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>How long until the breaker next lets a request through: zero while closed.</summary>
    public TimeSpan UntilNextTrial
    {
        get
        {
            lock (_gate)
            {
                return _state switch
                {
                    WebhookCircuitState.Open when _openUntil > _time.GetUtcNow() => _openUntil - _time.GetUtcNow(),
                    WebhookCircuitState.HalfOpen => _recoveryTime,
                    _ => TimeSpan.Zero,
                };
            }
        }
    }

    /// <summary>
    /// Completes when a request may be sent: at once while closed; after the recovery time, for exactly one trial,
    /// once it is open; otherwise when the trial's outcome is known; null when no permit came within
    /// <paramref name="maxWait"/> (<see cref="Timeout.InfiniteTimeSpan"/>: no limit). The caller must report the outcome
    /// of every permit through <see cref="Record"/> or give it back with <see cref="Abandon"/>.
    /// </summary>
    public async ValueTask<Permit?> AcquireAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = maxWait == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : _time.GetUtcNow() + maxWait;
        var counted = false;
        try
        {
            while (true)
            {
                Task changed;
                TimeSpan wait;
                var changes = default(Changes);
                lock (_gate)
                {
                    var now = _time.GetUtcNow();
                    if (_state == WebhookCircuitState.Closed)
                    {
                        return new Permit(IsTrial: false);
                    }

                    if (_state == WebhookCircuitState.Open && now >= _openUntil)
                    {
                        // A follower that heard nothing in time tries itself, and so leads from here.
                        _following = false;
                        MoveTo(WebhookCircuitState.HalfOpen, ref changes);
                    }
                    else if (now >= deadline)
                    {
                        return null;
                    }

                    changed = _changed.Task;
                    var until = _state == WebhookCircuitState.Open && _openUntil < deadline ? _openUntil : deadline;
                    wait = until == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : until - now;
                }

                if (changes.Any)
                {
                    Raise(changes); // outside the lock: a listener never runs while this breaker is held
                    return new Permit(IsTrial: true);
                }

                if (!counted)
                {
                    Interlocked.Increment(ref _waiting);
                    counted = true;
                }

                if (wait == Timeout.InfiniteTimeSpan)
                {
                    await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await Task.WhenAny(changed, Task.Delay(wait, _time, cancellationToken)).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        finally
        {
            if (counted)
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    /// <summary>Reports the outcome of a permitted request.</summary>
    public void Record(Permit permit, bool success)
    {
        var changes = default(Changes);
        lock (_gate)
        {
            if (success)
            {
                // Any success shows the endpoint is up, whether it was the trial or a request from before the opening.
                _consecutiveFailures = 0;
                _lastSuccessAt = _time.GetUtcNow();
                if (_state != WebhookCircuitState.Closed)
                {
                    MoveTo(WebhookCircuitState.Closed, ref changes);
                    changes.Tell = (WebhookBreakerSignalKind.Closed, TimeSpan.Zero);
                }
            }
            else
            {
                switch (_state)
                {
                    case WebhookCircuitState.Closed when ++_consecutiveFailures >= _threshold:
                    case WebhookCircuitState.HalfOpen when permit.IsTrial:
                        Open(ref changes);
                        break;
                    case WebhookCircuitState.Closed:
                        changes.Tell = (WebhookBreakerSignalKind.Failed, TimeSpan.Zero);
                        break;
                }
            }
        }

        Raise(changes);
    }

    /// <summary>Where this breaker tells the fleet what happened here (<see cref="BreakerFleet"/>); unset, it acts alone.</summary>
    public void TellTo(Action<WebhookBreakerSignalKind, TimeSpan> tell) => _tell = tell;

    /// <summary>
    /// Applies what another host said: its failure counts here too; its opening is followed (for
    /// <paramref name="openFor"/> plus the grace), unless this host opened it too and <paramref name="senderLeads"/> is
    /// false, since one of the two must make the trial; its success closes the breaker; a newcomer's question is answered.
    /// </summary>
    public void Heard(WebhookBreakerSignalKind kind, TimeSpan openFor, bool senderLeads)
    {
        // Another host never keeps this one open longer than its own recovery time (a signal from a host with other
        // settings, or a bad one, cannot stop deliveries for days).
        openFor = openFor < TimeSpan.Zero ? TimeSpan.Zero : openFor > _recoveryTime ? _recoveryTime : openFor;
        var changes = default(Changes);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            switch (kind)
            {
                case WebhookBreakerSignalKind.Failed when _state == WebhookCircuitState.Closed && ++_consecutiveFailures >= _threshold:
                    Open(ref changes);
                    break;
                case WebhookBreakerSignalKind.Opened when _state == WebhookCircuitState.Closed
                    || (_state == WebhookCircuitState.Open && (_following || senderLeads)):
                    var until = now + openFor + _followGrace;
                    _openUntil = _following && _openUntil > until ? _openUntil : until;
                    _following = true;
                    if (_state != WebhookCircuitState.Open)
                    {
                        MoveTo(WebhookCircuitState.Open, ref changes);
                    }

                    break;
                case WebhookBreakerSignalKind.Closed when _state != WebhookCircuitState.Closed:
                    MoveTo(WebhookCircuitState.Closed, ref changes);
                    break;
                case WebhookBreakerSignalKind.Asked when _state == WebhookCircuitState.Open && !_following && _openUntil > now:
                    changes.Tell = (WebhookBreakerSignalKind.Opened, _openUntil - now);
                    break;
            }
        }

        Raise(changes);
    }

    /// <summary>Gives back a permit whose request was never sent (e.g. shutdown), so a trial is not lost.</summary>
    public void Abandon(Permit permit)
    {
        var changes = default(Changes);
        lock (_gate)
        {
            if (permit.IsTrial && _state == WebhookCircuitState.HalfOpen)
            {
                // Back to open with the recovery time already over: the next caller becomes the trial.
                _openUntil = _time.GetUtcNow();
                MoveTo(WebhookCircuitState.Open, ref changes);
            }
        }

        Raise(changes);
    }

    /// <summary>Opens for the recovery time, leading: this host makes the next trial, and tells the others.</summary>
    private void Open(ref Changes changes)
    {
        _openUntil = _time.GetUtcNow() + _recoveryTime;
        _following = false;
        MoveTo(WebhookCircuitState.Open, ref changes);
        changes.Tell = (WebhookBreakerSignalKind.Opened, _recoveryTime);
    }

    /// <summary>Changes the state under the lock; what it tells listeners is raised by <see cref="Raise"/> once the lock is released.</summary>
    private void MoveTo(WebhookCircuitState next, ref Changes changes)
    {
        changes.Transition = (_state, next);
        _state = next;
        if (next == WebhookCircuitState.Closed)
        {
            _consecutiveFailures = 0;
            _following = false;
        }

        var signal = _changed;
        _changed = NewSignal();
        signal.TrySetResult();
    }

    /// <summary>
    /// Tells the transition's listener (the telemetry channel) and the fleet what changed, outside the lock, as Polly
    /// raises its breaker's events: a slow or throwing listener never holds up, or breaks, another caller.
    /// </summary>
    private void Raise(Changes changes)
    {
        if (changes.Transition is var (from, to))
        {
            _onTransition?.Invoke(from, to);
        }

        if (changes.Tell is var (kind, openFor))
        {
            _tell?.Invoke(kind, openFor);
        }
    }

    /// <summary>What one call changed under the lock: at most one transition and one signal to the fleet.</summary>
    private struct Changes
    {
        public (WebhookCircuitState From, WebhookCircuitState To)? Transition;
        public (WebhookBreakerSignalKind Kind, TimeSpan OpenFor)? Tell;

        public readonly bool Any => Transition is not null || Tell is not null;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Leave to send one request.</summary>
    public readonly record struct Permit(bool IsTrial);
}
