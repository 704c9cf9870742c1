using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Delivery;
using Hokusai.Bus.TestSupport;
using MassTransit;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// The guide's retry schedule (2, 4, 8, 16, 32 s; 5 retries), Retry-After, and the circuit breaker, end to end through
/// the consumer in the in-memory harness and a real receiver, on fake time: each wait is awaited as the timer the
/// plugin starts, then fake time is advanced by exactly that much.
/// </summary>
public sealed class BackoffTests : IAsyncLifetime
{
    /// <summary>Distinct from every retry delay, so per-attempt time-out timers are told apart from waits.</summary>
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(7);

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private readonly TimerRecordingTimeProvider _time = new(AttemptTimeout);
    private WebhookReceiver _receiver = null!;
    private Harness? _harness;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync(Harness.Secret);

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _time.DisposeWhileAdvancingAsync(_harness, Wait);
        }

        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_refused_registration_is_retried_after_2_4_8_16_32_seconds_then_faults_as_the_endpoint_accepts_others()
    {
        // The endpoint refuses one registration and accepts another, published during the last wait: retries spent
        // while the endpoint is shown to be up send the refused one to _error after the guide's schedule.
        var refused = Guid.NewGuid().ToString();
        _receiver.Respond = info => ValueTask.FromResult(info.IdempotencyKey == refused
            ? new WebhookReceiver.Response(500)
            : WebhookReceiver.Response.Ok);
        var harness = await StartAsync(o =>
        {
            o.RetryDelay = TimeSpan.FromSeconds(2);
            o.MaxRetries = 5;
            o.CircuitBreakerFailureThreshold = 10; // Out of the way here; the guide's 5 would open it (next test).
        });

        await harness.Test.Bus.Publish(Harness.Registration(key: refused));
        await _receiver.WaitForRequestsAsync(1, Wait);

        var delays = new List<TimeSpan>();
        for (var request = 2; request <= 6; request++)
        {
            var delay = await _time.NextWaitAsync(Wait);
            delays.Add(delay);
            if (request == 6)
            {
                await harness.Test.Bus.Publish(Harness.Registration("model_accepted"));
                await _receiver.WaitForAcceptedAsync(1, Wait);
                await harness.ConsumedAsync("model_accepted");
            }

            await AssertNoRequestBeforeAsync(delay, expectedSoFar: request == 6 ? 6 : request - 1);
            _time.Advance(Tick);
            await _receiver.WaitForRequestsAsync(request == 6 ? 7 : request, Wait);
        }

        Assert.Equal([2, 4, 8, 16, 32], delays.Select(d => d.TotalSeconds));
        var fault = await harness.FaultAsync();
        Assert.Contains("6 attempt(s)", fault.Exceptions[0].Message);
        Assert.Equal(6, _receiver.Requests.Count(r => r.IdempotencyKey == refused));
        Assert.Empty(_time.UnreadWaits());
    }

    [Fact]
    public async Task With_no_other_traffic_a_registration_whose_retries_are_spent_waits_instead_of_faulting()
    {
        // Every request fails and nothing else is delivered: that may be an outage, so the spent registration is tried
        // again every recovery time rather than dead-lettered. Once the endpoint accepts it, it is delivered.
        var up = false;
        _receiver.Respond = _ => ValueTask.FromResult(up ? WebhookReceiver.Response.Ok : new WebhookReceiver.Response(500));
        var harness = await StartAsync(o =>
        {
            o.MaxRetries = 0;
            o.CircuitBreakerFailureThreshold = 10;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(60);
        });

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);
        for (var request = 2; request <= 3; request++)
        {
            Assert.Equal(TimeSpan.FromSeconds(60), await _time.NextWaitAsync(Wait));
            _time.Advance(TimeSpan.FromSeconds(60));
            await _receiver.WaitForRequestsAsync(request, Wait);
        }

        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
        up = true;
        Assert.Equal(TimeSpan.FromSeconds(60), await _time.NextWaitAsync(Wait));
        _time.Advance(TimeSpan.FromSeconds(60));
        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Equal([500, 500, 500, 200], _receiver.Requests.Select(r => r.StatusReturned));
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task With_the_guides_defaults_the_fifth_failure_opens_the_breaker_and_a_failed_trial_uses_up_no_retry()
    {
        // Guide defaults: 5 retries from 2 s, and 5 consecutive failures open the breaker for 60 s. The failures at
        // 0, 2, 6, 14 and 30 s open it until 90 s, so the last retry, due at 62 s, is sent at 90 s as the trial. The
        // trial fails: an outage, not this registration's fault, so it waits for the next trial at 150 s, which the
        // recovered endpoint accepts.
        var up = false;
        _receiver.Respond = _ => ValueTask.FromResult(up ? WebhookReceiver.Response.Ok : new WebhookReceiver.Response(500));
        var harness = await StartAsync(o =>
        {
            o.RetryDelay = TimeSpan.FromSeconds(2);
            o.MaxRetries = 5;
            o.CircuitBreakerFailureThreshold = 5;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(60);
        });
        var breaker = (WebhookCircuitBreaker)harness.Services.GetService(typeof(WebhookCircuitBreaker))!;
        var started = _time.GetUtcNow();

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);
        foreach (var (request, seconds) in new[] { (2, 2), (3, 4), (4, 8), (5, 16) })
        {
            Assert.Equal(TimeSpan.FromSeconds(seconds), await _time.NextWaitAsync(Wait));
            _time.Advance(TimeSpan.FromSeconds(seconds));
            await _receiver.WaitForRequestsAsync(request, Wait);
        }

        Assert.Equal(TimeSpan.FromSeconds(32), await _time.NextWaitAsync(Wait));
        Assert.Equal(WebhookCircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(32));
        var held = await _time.NextWaitAsync(Wait);
        Assert.Equal(TimeSpan.FromSeconds(28), held);
        await AssertNoRequestBeforeAsync(held, expectedSoFar: 5);
        _time.Advance(Tick);

        await _receiver.WaitForRequestsAsync(6, Wait);
        Assert.Equal(TimeSpan.FromSeconds(90), _time.GetUtcNow() - started);
        Assert.Equal(TimeSpan.FromSeconds(60), await _time.NextWaitAsync(Wait)); // Waiting for the next trial:
        Assert.Equal(WebhookCircuitState.Open, breaker.State); // the failed trial reopened the breaker...
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>()); // ...and used up no retry.

        up = true;
        _time.Advance(TimeSpan.FromSeconds(60));
        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.True(await harness.Test.Consumed.Any<ModelRegistered>());
        Assert.Equal(TimeSpan.FromSeconds(150), _time.GetUtcNow() - started);
        Assert.Equal(WebhookCircuitState.Closed, breaker.State);
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task WEBHOOK_MAX_RETRIES_0_sends_one_request_and_faults_without_waiting_while_others_are_accepted()
    {
        var refused = Guid.NewGuid().ToString();
        var harness = await StartAsync(o => o.MaxRetries = 0);
        _receiver.Respond = async info =>
        {
            if (info.IdempotencyKey != refused)
            {
                return WebhookReceiver.Response.Ok;
            }

            // Another registration is delivered while this one's only attempt is under way.
            await harness.Test.Bus.Publish(Harness.Registration("model_accepted"));
            await harness.ConsumedAsync("model_accepted");
            return new WebhookReceiver.Response(500);
        };

        await harness.Test.Bus.Publish(Harness.Registration(key: refused));

        var fault = await harness.FaultAsync();
        Assert.Contains("1 attempt(s)", fault.Exceptions[0].Message);
        Assert.Single(_receiver.Requests, r => r.IdempotencyKey == refused);
        Assert.Empty(_time.UnreadWaits());
    }

    [Theory]
    [InlineData(429, 10, 10)] // Too Many Requests: a longer Retry-After wins over the 2 s backoff.
    [InlineData(503, 10, 10)] // Service Unavailable: likewise.
    [InlineData(500, 10, 2)] // Retry-After on another status is not honoured.
    [InlineData(429, 1, 2)] // A Retry-After shorter than the backoff is ignored.
    [InlineData(429, 200, 200)] // Honoured in the host while it fits in WEBHOOK_MAX_HOLD (5 min by default).
    public async Task The_first_retry_waits_for_the_longer_of_the_backoff_and_an_honoured_Retry_After(
        int status, int retryAfterSeconds, int expectedDelaySeconds)
    {
        _receiver.Respond = info => ValueTask.FromResult(info.Number == 1
            ? new WebhookReceiver.Response(status, RetryAfterSeconds: retryAfterSeconds)
            : WebhookReceiver.Response.Ok);
        var harness = await StartAsync(o => o.RetryDelay = TimeSpan.FromSeconds(2));

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);

        var delay = await _time.NextWaitAsync(Wait);
        Assert.Equal(TimeSpan.FromSeconds(expectedDelaySeconds), delay);
        await AssertNoRequestBeforeAsync(delay, expectedSoFar: 1);
        _time.Advance(Tick);

        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.Equal(2, _receiver.RequestCount);
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task A_Retry_After_shorter_than_a_later_backoff_step_does_not_shorten_it()
    {
        // 500, 500, then 429 asking for 5 s where the schedule says 8 s; then 429 asking for 20 s where it says 16 s.
        _receiver.Respond = info => ValueTask.FromResult(info.Number switch
        {
            3 => new WebhookReceiver.Response(429, RetryAfterSeconds: 5),
            4 => new WebhookReceiver.Response(429, RetryAfterSeconds: 20),
            5 => WebhookReceiver.Response.Ok,
            _ => new WebhookReceiver.Response(500),
        });
        var harness = await StartAsync(o => o.RetryDelay = TimeSpan.FromSeconds(2));

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);

        var delays = new List<TimeSpan>();
        for (var request = 2; request <= 5; request++)
        {
            var delay = await _time.NextWaitAsync(Wait);
            delays.Add(delay);
            _time.Advance(delay);
            await _receiver.WaitForRequestsAsync(request, Wait);
        }

        Assert.Equal([2, 4, 8, 20], delays.Select(d => d.TotalSeconds));
        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task An_open_breaker_sends_nothing_for_the_recovery_time_and_uses_up_no_retry()
    {
        _receiver.Respond = info => ValueTask.FromResult(
            info.Number <= 3 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        var harness = await StartAsync(o =>
        {
            o.CircuitBreakerFailureThreshold = 3;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(60);
            o.MaxRetries = 5;
            o.RetryDelay = TimeSpan.FromSeconds(1);
        });
        var breaker = (WebhookCircuitBreaker)harness.Services.GetService(typeof(WebhookCircuitBreaker))!;

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);

        // Two retries, 1 s then 2 s; the third request fails and opens the breaker.
        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync(Wait));
        _time.Advance(TimeSpan.FromSeconds(1));
        await _receiver.WaitForRequestsAsync(2, Wait);
        Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync(Wait));
        _time.Advance(TimeSpan.FromSeconds(2));
        await _receiver.WaitForRequestsAsync(3, Wait);

        // The third retry is due 4 s later, but the breaker holds it until 60 s after the third failure.
        Assert.Equal(TimeSpan.FromSeconds(4), await _time.NextWaitAsync(Wait));
        Assert.Equal(WebhookCircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(56), await _time.NextWaitAsync(Wait));
        _time.Advance(TimeSpan.FromSeconds(55)); // 59 s after the third failure.
        await AssertStillAsync(expectedSoFar: 3);
        Assert.Equal(WebhookCircuitState.Open, breaker.State);

        _time.Advance(TimeSpan.FromSeconds(1)); // 60 s: the trial.
        await _receiver.WaitForAcceptedAsync(1, Wait);

        Assert.Equal([500, 500, 500, 200], _receiver.Requests.Select(r => r.StatusReturned));
        Assert.True(await harness.Test.Consumed.Any<ModelRegistered>());
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
        Assert.Equal(WebhookCircuitState.Closed, breaker.State);
    }

    /// <summary>The plugin on fake time, stopped by <see cref="DisposeAsync"/> even if the test fails half-way.</summary>
    private async Task<Harness> StartAsync(Action<HokusaiWebhookOptions> configure)
    {
        Assert.Null(_harness);
        _harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.Timeout = AttemptTimeout;
            configure(o);
        }, _time);
        return _harness;
    }

    /// <summary>Advances to 1 ms before <paramref name="delay"/> is over and checks that no request follows.</summary>
    private async Task AssertNoRequestBeforeAsync(TimeSpan delay, int expectedSoFar)
    {
        _time.Advance(delay - Tick);
        await AssertStillAsync(expectedSoFar);
    }

    /// <summary>A short real wait is unavoidable to show that something does not happen.</summary>
    private async Task AssertStillAsync(int expectedSoFar)
    {
        await Assert.ThrowsAsync<TimeoutException>(() => _receiver.WaitForRequestsAsync(expectedSoFar + 1, Grace));
        Assert.Equal(expectedSoFar, _receiver.RequestCount);
    }
}
