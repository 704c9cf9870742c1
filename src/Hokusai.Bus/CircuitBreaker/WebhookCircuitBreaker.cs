namespace Hokusai.Bus;

/// <summary>
/// A consecutive-failure breaker for one webhook destination. Unlike a breaker that fails calls fast, callers
/// <em>wait</em> for a permit, for as long as they choose: while it is open no request is made and no retry is used up.
/// A message waits here no longer than its hold allows, then in a RabbitMQ delay queue (see <see cref="WebhookDelivery"/>).
/// </summary>
internal sealed class WebhookCircuitBreaker
{
    private readonly object _gate = new();
    private readonly int _threshold;
    private readonly TimeSpan _recoveryTime;
    private readonly TimeProvider _time;
    private readonly Action<WebhookCircuitState, WebhookCircuitState>? _onTransition;

    private WebhookCircuitState _state = WebhookCircuitState.Closed;
    private int _consecutiveFailures;
    private DateTimeOffset _openUntil;
    private TaskCompletionSource _changed = NewSignal();
    private DateTimeOffset? _lastSuccessAt;
    private int _waiting;

    public WebhookCircuitBreaker(
        int failureThreshold,
        TimeSpan recoveryTime,
        TimeProvider time,
        Action<WebhookCircuitState, WebhookCircuitState>? onTransition = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failureThreshold, 1);
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
                lock (_gate)
                {
                    var now = _time.GetUtcNow();
                    switch (_state)
                    {
                        case WebhookCircuitState.Closed:
                            return new Permit(IsTrial: false);
                        case WebhookCircuitState.Open when now >= _openUntil:
                            MoveTo(WebhookCircuitState.HalfOpen);
                            return new Permit(IsTrial: true);
                    }

                    if (now >= deadline)
                    {
                        return null;
                    }

                    changed = _changed.Task;
                    var until = _state == WebhookCircuitState.Open && _openUntil < deadline ? _openUntil : deadline;
                    wait = until == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : until - now;
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
        lock (_gate)
        {
            if (success)
            {
                // Any success shows the endpoint is up, whether it was the trial or a request from before the opening.
                _consecutiveFailures = 0;
                _lastSuccessAt = _time.GetUtcNow();
                if (_state != WebhookCircuitState.Closed)
                {
                    MoveTo(WebhookCircuitState.Closed);
                }

                return;
            }

            switch (_state)
            {
                case WebhookCircuitState.Closed when ++_consecutiveFailures >= _threshold:
                case WebhookCircuitState.HalfOpen when permit.IsTrial:
                    Open();
                    break;
            }
        }
    }

    /// <summary>Gives back a permit whose request was never sent (e.g. shutdown), so a trial is not lost.</summary>
    public void Abandon(Permit permit)
    {
        lock (_gate)
        {
            if (permit.IsTrial && _state == WebhookCircuitState.HalfOpen)
            {
                // Back to open with the recovery time already over: the next caller becomes the trial.
                _openUntil = _time.GetUtcNow();
                MoveTo(WebhookCircuitState.Open);
            }
        }
    }

    private void Open()
    {
        _openUntil = _time.GetUtcNow() + _recoveryTime;
        MoveTo(WebhookCircuitState.Open);
    }

    private void MoveTo(WebhookCircuitState next)
    {
        var previous = _state;
        _state = next;
        if (next == WebhookCircuitState.Closed)
        {
            _consecutiveFailures = 0;
        }

        var signal = _changed;
        _changed = NewSignal();
        signal.TrySetResult();
        _onTransition?.Invoke(previous, next);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Leave to send one request.</summary>
    public readonly record struct Permit(bool IsTrial);
}
