using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>
/// The typed telemetry channel: an application's <see cref="IWebhookDeliveryListener"/> sees every attempt, retry,
/// breaker change and outcome, the same events the plugin's own logs and metrics are written from.
/// </summary>
public sealed class DeliveryEventTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync(Harness.Secret);

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task A_listener_sees_each_attempt_the_retries_between_them_and_the_outcome_in_order()
    {
        _receiver.Respond = info => ValueTask.FromResult(
            info.Number <= 2 ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
        var listener = new Recording();
        await using var harness = await Harness.StartAsync(_receiver.Url, listener: listener);
        var registration = Harness.Registration();

        await harness.Test.Bus.Publish(registration);
        await _receiver.WaitForAcceptedAsync(1, Wait);
        Assert.True(await harness.Test.Consumed.Any<ModelRegistered>());

        var events = listener.Events.ToList();
        Assert.Equal(
            ["attempt 1 503", "retry 2", "attempt 2 503", "retry 3", "attempt 3 200", "delivered 3"],
            events.Select(Describe));
        Assert.All(events, e => Assert.DoesNotContain(Harness.Secret, e.ToString(), StringComparison.Ordinal));
        Assert.All(events.OfType<WebhookAttemptFinished>(), e => Assert.Equal(registration.IdempotencyKey, e.IdempotencyKey));
        // The outcome carries the attempt that was accepted (the delivery log stores the two as one record).
        Assert.Same(events.OfType<WebhookAttemptFinished>().Last(), events.OfType<WebhookDelivered>().Single().AcceptedAttempt);
    }

    [Fact]
    public async Task A_listener_sees_the_breaker_open()
    {
        _receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(500));
        var listener = new Recording();
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.CircuitBreakerFailureThreshold = 2;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(1);
        }, listener: listener);

        await harness.Test.Bus.Publish(Harness.Registration());
        await listener.WaitForAsync(e => e is WebhookBreakerChanged { To: WebhookCircuitState.Open }, Wait);

        var opened = listener.Events.OfType<WebhookBreakerChanged>().First();
        Assert.Equal(WebhookCircuitState.Closed, opened.From);
        Assert.Equal(2, listener.Events.OfType<WebhookAttemptFinished>().Count());
        Assert.DoesNotContain("?", opened.Url, StringComparison.Ordinal);

        // The endpoint recovers: the next trial closes the breaker and the registration is delivered.
        _receiver.Respond = _ => ValueTask.FromResult(WebhookReceiver.Response.Ok);
        await listener.WaitForAsync(e => e is WebhookDelivered, Wait);
        Assert.Contains(listener.Events, e => e is WebhookBreakerChanged { To: WebhookCircuitState.Closed });
    }

    [Fact]
    public async Task Attempts_are_numbered_as_the_receiver_saw_the_requests_failed_trials_included()
    {
        _receiver.Respond = info => ValueTask.FromResult(info.Number <= 2 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        var listener = new Recording();
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.CircuitBreakerFailureThreshold = 1; // #1 opens it; #2 is a trial that fails; #3 a trial that succeeds
            o.CircuitBreakerRecoveryTime = TimeSpan.FromMilliseconds(200);
        }, listener: listener);

        await harness.Test.Bus.Publish(Harness.Registration());
        await listener.WaitForAsync(e => e is WebhookDelivered, Wait);

        Assert.Equal([1, 2, 3], listener.Events.OfType<WebhookAttemptFinished>().Select(a => a.Attempt));
        Assert.Equal([false, true, true], listener.Events.OfType<WebhookAttemptFinished>().Select(a => a.IsTrial));
        Assert.Equal(3, listener.Events.OfType<WebhookDelivered>().Single().Attempts);
        Assert.Equal(3, _receiver.RequestCount);
    }

    [Fact]
    public async Task The_delivery_duration_runs_from_the_first_attempt_even_across_a_wait_in_the_broker()
    {
        _receiver.Respond = info => ValueTask.FromResult(info.Number == 1 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        var listener = new Recording();
        // The 1.5 s retry does not fit in a 1 s hold: the message waits outside the consumer and comes back.
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.RetryDelay = TimeSpan.FromSeconds(1.5);
            o.MaxHold = TimeSpan.FromSeconds(1);
            o.Timeout = TimeSpan.FromSeconds(0.5);
        }, listener: listener);

        await harness.Test.Bus.Publish(Harness.Registration());
        await listener.WaitForAsync(e => e is WebhookDelivered, Wait);

        Assert.Contains(listener.Events, e => e is WebhookDeferred);
        var delivered = listener.Events.OfType<WebhookDelivered>().Single();
        Assert.True(delivered.Duration >= TimeSpan.FromSeconds(1.4), $"{delivered.Duration.TotalMilliseconds} ms: only the last hold was measured");
    }

    [Fact]
    public async Task Stopping_the_bus_without_a_host_ends_a_wait_at_once()
    {
        // Nothing listens, and the harness has no host lifetime: only the bus stopping can end the 60 s waits.
        var listener = new Recording();
        var harness = await Harness.StartAsync(new Uri($"http://127.0.0.1:{LoopbackPort.Free()}/api/models/ready"), o =>
        {
            o.MaxRetries = 1;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(60);
        }, listener: listener);
        await harness.Test.Bus.Publish(Harness.Registration());
        await listener.WaitForAsync(e => e is WebhookAttemptFinished { Attempt: 2 }, Wait);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await harness.DisposeAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"the stop waited {stopping.Elapsed.TotalSeconds:0} s for the retry wait");
        Assert.Contains(listener.Events, e => e is WebhookDeferred);
    }

    [Fact]
    public async Task A_listener_that_throws_on_every_event_changes_nothing_a_user_sees()
    {
        // Registered first, before the plugin's own logs and metrics, as an application's buggy listener would be.
        var recording = new Recording();
        await using var harness = await Harness.StartAsync(_receiver.Url, listeners: [new Throwing(), recording]);
        var registrations = Enumerable.Range(1, 5).Select(i => Harness.Registration($"model_{i}")).ToList();

        foreach (var registration in registrations)
        {
            await harness.Test.Bus.Publish(registration);
        }

        var consumed = await harness.Test.Consumed.SelectAsync<ModelRegistered>().Take(5).ToListAsync();
        Assert.All(consumed, c => Assert.Null(c.Exception)); // nothing faulted, so nothing went to _error
        Assert.Equal(registrations.Select(r => r.IdempotencyKey).Order(), _receiver.AcceptedCounts.Keys.Order());
        Assert.All(_receiver.AcceptedCounts.Values, count => Assert.Equal(1, count)); // each arrived once
        Assert.Equal(5, recording.Events.OfType<WebhookDelivered>().Count()); // the listener after it saw every event
        Assert.True(harness.Services.GetRequiredService<WebhookDeliveryTelemetry>().ListenerFailures >= 10);
    }

    private static string Describe(WebhookDeliveryEvent e) => e switch
    {
        WebhookAttemptFinished a => $"attempt {a.Attempt} {a.StatusCode}",
        WebhookRetryScheduled r => $"retry {r.NextAttempt}",
        WebhookDelivered d => $"delivered {d.Attempts}",
        _ => e.GetType().Name,
    };

    private sealed class Throwing : IWebhookDeliveryListener
    {
        public void Write(WebhookDeliveryEvent deliveryEvent) => throw new InvalidOperationException("a buggy metrics listener");
    }

    private sealed class Recording : IWebhookDeliveryListener
    {
        private readonly ConcurrentQueue<WebhookDeliveryEvent> _events = new();
        private readonly Recorded _recorded;

        public Recording() => _recorded = new Recorded(() => string.Join(", ", _events.Select(Describe)));

        public IEnumerable<WebhookDeliveryEvent> Events => _events;

        public void Write(WebhookDeliveryEvent deliveryEvent) => _recorded.Record(() => _events.Enqueue(deliveryEvent));

        public Task WaitForAsync(
            Func<WebhookDeliveryEvent, bool> match, TimeSpan timeout, [CallerArgumentExpression(nameof(match))] string what = "") =>
            _recorded.WaitAsync(() => _events.Any(match), timeout, what);
    }
}
