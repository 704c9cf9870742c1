using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Delivery;
using MassTransit;
using Hokusai.Bus.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// The guide's CloudWatch metrics (meter <c>Hokusai.Bus</c>) as recorded by real deliveries. Only instruments of the
/// meter created by this test's own service provider are listened to, so tests running in parallel do not bleed in.
/// </summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync(Harness.Secret);

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task A_delivery_that_fails_twice_then_succeeds_records_one_success_two_retries_and_one_duration()
    {
        _receiver.Respond = info => ValueTask.FromResult(
            info.Number <= 2 ? new WebhookReceiver.Response(500) : WebhookReceiver.Response.Ok);
        await using var harness = await Harness.StartAsync(_receiver.Url);
        using var metrics = new Recorder(harness.Services);

        await harness.Test.Bus.Publish(Harness.Registration());
        await metrics.WaitForAsync(m => m.Sum("webhook_publish_success") >= 1 && m.Of("webhook_delivery_duration").Count >= 1, Wait);

        Assert.Equal(1, metrics.Sum("webhook_publish_success"));
        Assert.Equal(2, metrics.Sum("webhook_retry_count"));
        Assert.Equal(0, metrics.Sum("webhook_publish_failure"));
        var duration = Assert.Single(metrics.Of("webhook_delivery_duration"));
        Assert.True(duration.Value >= 0);
        Assert.Contains(new KeyValuePair<string, object?>("outcome", "success"), duration.Tags);
        AssertNothingSensitive(metrics);
    }

    [Fact]
    public async Task A_delivery_whose_retries_are_exhausted_records_one_failure()
    {
        var key = Guid.NewGuid().ToString();
        await using var harness = await Harness.StartAsync(_receiver.Url, o => o.MaxRetries = 2);
        _receiver.Respond = harness.RefuseWhileAcceptingOthers(key, lastAttempt: 3, new WebhookReceiver.Response(500));
        using var metrics = new Recorder(harness.Services);

        await harness.Test.Bus.Publish(Harness.Registration(key: key));
        await metrics.WaitForAsync(m => m.Sum("webhook_publish_failure") >= 1 && m.Of("webhook_delivery_duration").Count >= 2, Wait);

        Assert.Equal(1, metrics.Sum("webhook_publish_failure"));
        Assert.Equal(1, metrics.Sum("webhook_publish_success")); // the other registration, delivered meanwhile
        Assert.Equal(2, metrics.Sum("webhook_retry_count"));
        Assert.Single(metrics.Of("webhook_delivery_duration"),
            d => d.Tags.Contains(new KeyValuePair<string, object?>("outcome", "failure")));
        Assert.Equal(3, _receiver.Requests.Count(r => r.IdempotencyKey == key));
        AssertNothingSensitive(metrics);
    }

    [Fact]
    public async Task The_circuit_breaker_state_gauge_reads_0_while_closed_and_1_once_open()
    {
        // No retries and a threshold of 2: each registration is one failed attempt; the second opens the breaker.
        _receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(500));
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.MaxRetries = 0;
            o.CircuitBreakerFailureThreshold = 2;
            o.CircuitBreakerRecoveryTime = TimeSpan.FromSeconds(1);
        });
        using var metrics = new Recorder(harness.Services);
        var breaker = (WebhookCircuitBreaker)harness.Services.GetService(typeof(WebhookCircuitBreaker))!;

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(1, Wait);
        Assert.Equal(0, metrics.Observe("webhook_circuit_breaker_state"));

        await harness.Test.Bus.Publish(Harness.Registration());
        await _receiver.WaitForRequestsAsync(2, Wait);
        await metrics.WaitForAsync(_ => breaker.State == CircuitState.Open, Wait);
        Assert.Equal(1, metrics.Observe("webhook_circuit_breaker_state"));

        // Both wait (nothing goes to _error in an outage); the endpoint recovers and they are delivered.
        _receiver.Respond = _ => ValueTask.FromResult(WebhookReceiver.Response.Ok);
        await _receiver.WaitForAcceptedAsync(2, TimeSpan.FromSeconds(90));
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());

        AssertNothingSensitive(metrics);
    }

    private void AssertNothingSensitive(Recorder metrics)
    {
        var url = _receiver.Url.ToString();
        var host = _receiver.Url.Authority;
        var all = metrics.All();
        Assert.NotEmpty(all);
        foreach (var m in all)
        {
            foreach (var (key, value) in m.Tags)
            {
                var text = key + "=" + Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.DoesNotContain(Harness.Secret, text, StringComparison.Ordinal);
                Assert.DoesNotContain(url, text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(host, text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("/api/models/ready", text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    private sealed record Measurement(string Instrument, double Value, KeyValuePair<string, object?>[] Tags);

    /// <summary>Records the measurements of the <c>Hokusai.Bus</c> meter created by one service provider.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly IMeterFactory _factory;
        private readonly ConcurrentQueue<Measurement> _measurements = new();
        private readonly object _waitersGate = new();
        private readonly List<(Func<Recorder, bool> Condition, TaskCompletionSource Done)> _waiters = [];

        public Recorder(IServiceProvider services)
        {
            _factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == HokusaiBusMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, _factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public IReadOnlyList<Measurement> All() => [.. _measurements];

        public IReadOnlyList<Measurement> Of(string instrument) =>
            [.. _measurements.Where(m => m.Instrument == instrument)];

        public double Sum(string instrument) => Of(instrument).Sum(m => m.Value);

        /// <summary>Reads an observable gauge now; exactly one observation is expected.</summary>
        public double Observe(string instrument)
        {
            var before = Of(instrument).Count;
            _listener.RecordObservableInstruments();
            var observed = Of(instrument);
            Assert.True(observed.Count == before + 1, $"expected one observation of {instrument}, got {observed.Count - before}");
            return observed[^1].Value;
        }

        /// <summary>Completes once <paramref name="condition"/> holds, checked on every measurement.</summary>
        public Task WaitForAsync(Func<Recorder, bool> condition, TimeSpan timeout)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waitersGate)
            {
                if (condition(this))
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((condition, done));
            }

            return done.Task.WaitAsync(timeout);
        }

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            _measurements.Enqueue(new Measurement(instrument.Name, value, tags.ToArray()));
            lock (_waitersGate)
            {
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Condition(this))
                    {
                        _waiters[i].Done.TrySetResult();
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }
    }
}
