using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// Fake time that reports every timer the plugin starts for a wait (a retry delay, or an open breaker's remaining
/// recovery time), so a test can await "the plugin is now waiting N seconds" and then advance exactly that far.
/// Timers due after <see cref="Ignored"/> (the per-attempt WEBHOOK_TIMEOUT), never, or at once are not reported.
/// </summary>
internal sealed class TimerRecordingTimeProvider(TimeSpan ignored) : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();
    private readonly SemaphoreSlim _anyTimer = new(0);

    public TimeSpan Ignored { get; } = ignored;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _anyTimer.Release();
        if (dueTime != Ignored && dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>The next wait the plugin started; fails if none starts within <paramref name="timeout"/> (real time).</summary>
    public async Task<TimeSpan> NextWaitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            return await _waits.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No timer was started within {timeout.TotalSeconds} s (fake time {GetUtcNow():O}).");
        }
    }

    /// <summary>
    /// Disposes <paramref name="harness"/>, letting fake time run while it stops: a test that failed half-way may
    /// leave a delivery waiting for a retry delay or an open breaker, and stopping the bus waits for that delivery.
    /// Each time the plugin starts a timer, time jumps an hour, until the delivery gives up and the bus has stopped.
    /// </summary>
    public async Task DisposeWhileAdvancingAsync(IAsyncDisposable harness, TimeSpan timeout)
    {
        var stopping = harness.DisposeAsync().AsTask();
        var deadline = DateTime.UtcNow + timeout;
        while (!stopping.IsCompleted && DateTime.UtcNow < deadline)
        {
            Advance(TimeSpan.FromHours(1));
            await Task.WhenAny(stopping, _anyTimer.WaitAsync(TimeSpan.FromSeconds(1)));
        }

        await stopping.WaitAsync(TimeSpan.FromSeconds(1));
    }

    /// <summary>Waits started and not yet read by <see cref="NextWaitAsync"/>.</summary>
    public IReadOnlyList<TimeSpan> UnreadWaits()
    {
        var unread = new List<TimeSpan>();
        while (_waits.Reader.TryRead(out var wait))
        {
            unread.Add(wait);
        }

        return unread;
    }
}
