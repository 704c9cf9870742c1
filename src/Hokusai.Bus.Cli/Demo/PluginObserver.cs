namespace Hokusai.Bus.Cli.Demo;

/// <summary>
/// Sees what the plugin does through its public telemetry channel: every attempt, retry, deferral, breaker change and
/// outcome arrives as a typed <see cref="WebhookDeliveryEvent"/>, is handed to the demo's printer, and is counted.
/// </summary>
internal sealed class PluginObserver(Action<WebhookDeliveryEvent> onEvent) : IWebhookDeliveryListener
{
    private readonly Lock _gate = new();
    private readonly List<(int Outcomes, TaskCompletionSource Done)> _waiters = [];
    private long _delivered;
    private long _failed;
    private long _retries;
    private int _breakerState;

    /// <summary>Registrations delivered so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Registrations sent to <c>_error</c> so far.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Retries scheduled so far (webhook_retry_count).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>The breaker's state now.</summary>
    public WebhookCircuitState BreakerState => (WebhookCircuitState)Volatile.Read(ref _breakerState);

    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        onEvent(deliveryEvent); // printed before it is counted, so a waiter released below sees every line
        switch (deliveryEvent)
        {
            case WebhookDelivered:
                Interlocked.Increment(ref _delivered);
                Release();
                break;
            case WebhookFailed:
                Interlocked.Increment(ref _failed);
                Release();
                break;
            case WebhookRetryScheduled:
                Interlocked.Increment(ref _retries);
                break;
            case WebhookBreakerChanged changed:
                Volatile.Write(ref _breakerState, (int)changed.To);
                break;
        }
    }

    /// <summary>Completes when delivered + failed reaches <paramref name="outcomes"/>.</summary>
    public Task WaitForOutcomesAsync(int outcomes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (Delivered + Failed >= outcomes)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((outcomes, done));
        }

        return done.Task.WaitAsync(timeout, cancellationToken);
    }

    private void Release()
    {
        lock (_gate)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (Delivered + Failed >= _waiters[i].Outcomes)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
