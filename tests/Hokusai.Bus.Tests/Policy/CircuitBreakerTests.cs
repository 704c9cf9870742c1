using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// <see cref="WebhookCircuitBreaker"/> on fake time: the guide's "after 5 consecutive failures the circuit breaker opens
/// and stops sending requests for 60 seconds", with callers waiting for a permit instead of failing.
/// </summary>
public sealed class CircuitBreakerTests
{
    private const int Threshold = 3;
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly List<(WebhookCircuitState From, WebhookCircuitState To)> _transitions = [];
    private readonly WebhookCircuitBreaker _breaker;

    /// <summary>A permit with no limit on the wait.</summary>
    private async ValueTask<WebhookCircuitBreaker.Permit> Acquire(CancellationToken cancellationToken) =>
        (await _breaker.AcquireAsync(Timeout.InfiniteTimeSpan, cancellationToken))!.Value;

    public CircuitBreakerTests()
    {
        _breaker = new WebhookCircuitBreaker(Threshold, Recovery, _time, (from, to) =>
        {
            lock (_transitions)
            {
                _transitions.Add((from, to));
            }
        });
    }

    [Fact]
    public async Task While_closed_every_caller_gets_a_permit_at_once()
    {
        for (var i = 0; i < 10; i++)
        {
            var acquiring = Acquire(CancellationToken.None);

            Assert.True(acquiring.IsCompletedSuccessfully, "a closed breaker must not make a caller wait");
            Assert.False((await acquiring).IsTrial);
        }

        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
        Assert.Empty(Transitions());
    }

    [Fact]
    public void Opens_after_exactly_threshold_consecutive_failures()
    {
        for (var i = 1; i < Threshold; i++)
        {
            Fail();
            Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
        }

        Fail();

        Assert.Equal(WebhookCircuitState.Open, _breaker.State);
        Assert.Equal([(WebhookCircuitState.Closed, WebhookCircuitState.Open)], Transitions());
        Assert.False(Acquire(CancellationToken.None).IsCompleted, "an open breaker gave a permit at once");
    }

    [Fact]
    public void A_success_before_the_threshold_resets_the_count_of_consecutive_failures()
    {
        for (var i = 1; i < Threshold; i++)
        {
            Fail();
        }

        _breaker.Record(PermitAtOnce(), success: true);

        // Threshold - 1 more failures: had the count not been reset, the breaker would now be open.
        for (var i = 1; i < Threshold; i++)
        {
            Fail();
        }

        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
        Assert.True(Acquire(CancellationToken.None).IsCompletedSuccessfully);

        Fail();
        Assert.Equal(WebhookCircuitState.Open, _breaker.State);
    }

    [Fact]
    public async Task While_open_no_permit_is_given_until_the_recovery_time_has_passed_then_one_trial()
    {
        Open();

        var waiting = Acquire(CancellationToken.None).AsTask();
        await SettleAsync();
        Assert.False(waiting.IsCompleted, "a permit was given right after the breaker opened");

        _time.Advance(Recovery - Tick);
        await SettleAsync();
        Assert.False(waiting.IsCompleted, "a permit was given 1 ms before the recovery time was over");
        Assert.Equal(WebhookCircuitState.Open, _breaker.State);

        _time.Advance(Tick);
        var permit = await waiting.WaitAsync(Bounded);

        Assert.True(permit.IsTrial);
        Assert.Equal(WebhookCircuitState.HalfOpen, _breaker.State);
    }

    [Fact]
    public async Task A_caller_arriving_after_the_recovery_time_becomes_the_trial_at_once()
    {
        Open();
        _time.Advance(Recovery);

        var acquiring = Acquire(CancellationToken.None);

        Assert.True(acquiring.IsCompletedSuccessfully);
        Assert.True((await acquiring).IsTrial);
    }

    [Fact]
    public async Task During_the_trial_other_callers_wait_until_its_outcome_is_recorded()
    {
        var trial = OpenAndTakeTrial();

        var second = Acquire(CancellationToken.None).AsTask();
        var third = Acquire(CancellationToken.None).AsTask();
        _time.Advance(Recovery * 3);
        await SettleAsync();

        Assert.False(second.IsCompleted, "a second request was permitted while the trial was in flight");
        Assert.False(third.IsCompleted, "a third request was permitted while the trial was in flight");
        Assert.Equal(WebhookCircuitState.HalfOpen, _breaker.State);

        _breaker.Record(trial, success: true);

        Assert.False((await second.WaitAsync(Bounded)).IsTrial);
        Assert.False((await third.WaitAsync(Bounded)).IsTrial);
    }

    [Fact]
    public async Task A_successful_trial_closes_the_breaker()
    {
        var trial = OpenAndTakeTrial();

        _breaker.Record(trial, success: true);

        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
        var next = Acquire(CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.False((await next).IsTrial);

        // Closed again with a fresh count: threshold - 1 failures leave it closed.
        for (var i = 1; i < Threshold; i++)
        {
            Fail();
        }

        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
    }

    [Fact]
    public async Task A_failed_trial_reopens_the_breaker_for_another_full_recovery_time()
    {
        // Let time run well past the first opening so that a reopening measured from then would be over at once.
        Open();
        _time.Advance(Recovery * 2);
        var trial = PermitAtOnce();
        Assert.True(trial.IsTrial);

        var waiting = Acquire(CancellationToken.None).AsTask();
        _breaker.Record(trial, success: false);
        await SettleAsync();

        Assert.Equal(WebhookCircuitState.Open, _breaker.State);
        Assert.False(waiting.IsCompleted, "a permit was given right after the trial failed");

        _time.Advance(Recovery - Tick);
        await SettleAsync();
        Assert.False(waiting.IsCompleted, "the breaker reopened for less than the recovery time");

        _time.Advance(Tick);
        Assert.True((await waiting.WaitAsync(Bounded)).IsTrial);
        Assert.Equal(WebhookCircuitState.HalfOpen, _breaker.State);
    }

    [Fact]
    public async Task An_abandoned_trial_lets_the_next_caller_become_the_trial_without_another_recovery_time()
    {
        var trial = OpenAndTakeTrial();
        var waiting = Acquire(CancellationToken.None).AsTask();
        await SettleAsync();
        Assert.False(waiting.IsCompleted);

        _breaker.Abandon(trial);

        var next = await waiting.WaitAsync(Bounded);
        Assert.True(next.IsTrial, "the waiting caller should have become the new trial");
        Assert.Equal(WebhookCircuitState.HalfOpen, _breaker.State);

        // Still only one trial at a time.
        var another = Acquire(CancellationToken.None).AsTask();
        await SettleAsync();
        Assert.False(another.IsCompleted, "a second trial was given after an abandoned one");

        _breaker.Record(next, success: true);
        Assert.False((await another.WaitAsync(Bounded)).IsTrial);
    }

    [Fact]
    public void Abandoning_a_permit_that_is_not_a_trial_changes_nothing()
    {
        var permit = PermitAtOnce();

        _breaker.Abandon(permit);

        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
        Assert.Empty(Transitions());
    }

    [Fact]
    public void Transitions_are_reported_closed_open_half_open_closed()
    {
        var trial = OpenAndTakeTrial();
        _breaker.Record(trial, success: true);

        Assert.Equal(
            [
                (WebhookCircuitState.Closed, WebhookCircuitState.Open),
                (WebhookCircuitState.Open, WebhookCircuitState.HalfOpen),
                (WebhookCircuitState.HalfOpen, WebhookCircuitState.Closed),
            ],
            Transitions());
    }

    [Fact]
    public async Task Cancelling_a_caller_waiting_on_an_open_breaker_throws_OperationCanceledException()
    {
        Open();
        using var cancellation = new CancellationTokenSource();
        var waiting = Acquire(cancellation.Token).AsTask();
        await SettleAsync();
        Assert.False(waiting.IsCompleted);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bounded));
        Assert.Equal(WebhookCircuitState.Open, _breaker.State);
    }

    [Fact]
    public async Task Cancelling_a_caller_waiting_for_the_trial_throws_and_does_not_disturb_the_trial()
    {
        var trial = OpenAndTakeTrial();
        using var cancellation = new CancellationTokenSource();
        var waiting = Acquire(cancellation.Token).AsTask();
        await SettleAsync();
        Assert.False(waiting.IsCompleted);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bounded));
        Assert.Equal(WebhookCircuitState.HalfOpen, _breaker.State);
        _breaker.Record(trial, success: true);
        Assert.Equal(WebhookCircuitState.Closed, _breaker.State);
    }

    [Fact]
    public void A_threshold_below_one_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebhookCircuitBreaker(0, Recovery, _time));
    }

    private void Fail() => _breaker.Record(PermitAtOnce(), success: false);

    /// <summary>A permit that must be given without waiting (fails instead of hanging on fake time).</summary>
    private WebhookCircuitBreaker.Permit PermitAtOnce()
    {
        var acquiring = Acquire(CancellationToken.None);
        Assert.True(acquiring.IsCompletedSuccessfully, $"expected a permit at once; the breaker is {_breaker.State}");
        return acquiring.Result;
    }

    private void Open()
    {
        for (var i = 0; i < Threshold; i++)
        {
            Fail();
        }

        Assert.Equal(WebhookCircuitState.Open, _breaker.State);
    }

    private WebhookCircuitBreaker.Permit OpenAndTakeTrial()
    {
        Open();
        _time.Advance(Recovery);
        var trial = PermitAtOnce();
        Assert.True(trial.IsTrial);
        return trial;
    }

    private (WebhookCircuitState From, WebhookCircuitState To)[] Transitions()
    {
        lock (_transitions)
        {
            return [.. _transitions];
        }
    }

    /// <summary>Lets continuations that are already due run, so that "not completed" is not merely "not yet".</summary>
    private static async Task SettleAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            await Task.Yield();
        }
    }
}
