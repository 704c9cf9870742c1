using System.Diagnostics.Metrics;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Delivery;
using MassTransit;
using Hokusai.Bus.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

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
    public async Task A_wait_longer_than_the_hold_is_counted_as_deferred_and_its_copy_carries_the_attempt()
    {
        _receiver.Respond = info => ValueTask.FromResult(info.Number == 1
            ? new WebhookReceiver.Response(503, RetryAfterSeconds: 30)
            : WebhookReceiver.Response.Ok);
        await using var harness = await Harness.StartAsync(_receiver.Url, o =>
        {
            o.Timeout = TimeSpan.FromSeconds(1);
            o.MaxHold = TimeSpan.FromSeconds(2);
        });
        using var metrics = new Recorder(harness.Services);

        await harness.Test.Bus.Publish(Harness.Registration());
        await metrics.WaitForAsync(m => m.Sum("webhook_deferred") >= 1, Wait);

        Assert.Equal(1, metrics.Sum("webhook_deferred"));
        Assert.Equal(0, metrics.Sum("webhook_publish_failure"));
        Assert.True(await harness.Test.Sent.Any<ModelRegistered>(s =>
            s.Context.Headers.Get<string>("Hokusai-Attempts") == "1" && s.Context.Delay >= TimeSpan.FromSeconds(30)));
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
        await metrics.WaitForAsync(_ => breaker.State == WebhookCircuitState.Open, Wait);
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

    /// <summary>
    /// The <c>Hokusai.Bus</c> instruments of one service provider's meter, each read through a
    /// <see cref="MetricCollector{T}"/> (Microsoft.Extensions.Diagnostics.Testing) scoped to that provider's
    /// <see cref="IMeterFactory"/>.
    /// </summary>
    private sealed class Recorder : IDisposable
    {
        private static readonly string[] Counters =
            ["webhook_publish_success", "webhook_publish_failure", "webhook_retry_count", "webhook_deferred", "hokusai_endpoint_faults"];

        private readonly Dictionary<string, MetricCollector<long>> _counters;
        private readonly MetricCollector<double> _duration;
        private readonly MetricCollector<int> _breaker;

        public Recorder(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _counters = Counters.ToDictionary(name => name, name => new MetricCollector<long>(factory, HokusaiBusMetrics.MeterName, name));
            _duration = new MetricCollector<double>(factory, HokusaiBusMetrics.MeterName, "webhook_delivery_duration");
            _breaker = new MetricCollector<int>(factory, HokusaiBusMetrics.MeterName, "webhook_circuit_breaker_state");
        }

        public IReadOnlyList<Measurement> All() =>
            [.. _counters.Keys.SelectMany(Of), .. Of("webhook_delivery_duration"), .. Of("webhook_circuit_breaker_state")];

        public IReadOnlyList<Measurement> Of(string instrument) => instrument switch
        {
            "webhook_delivery_duration" => [.. _duration.GetMeasurementSnapshot().Select(m => new Measurement(instrument, m.Value, [.. m.Tags]))],
            "webhook_circuit_breaker_state" => [.. _breaker.GetMeasurementSnapshot().Select(m => new Measurement(instrument, m.Value, [.. m.Tags]))],
            _ => [.. _counters[instrument].GetMeasurementSnapshot().Select(m => new Measurement(instrument, m.Value, [.. m.Tags]))],
        };

        public double Sum(string instrument) => Of(instrument).Sum(m => m.Value);

        /// <summary>Reads the observable gauge now; exactly one observation is expected.</summary>
        public double Observe(string instrument)
        {
            Assert.Equal("webhook_circuit_breaker_state", instrument);
            var before = _breaker.GetMeasurementSnapshot().Count;
            _breaker.RecordObservableInstruments();
            var observed = _breaker.GetMeasurementSnapshot();
            Assert.True(observed.Count == before + 1, $"expected one observation of {instrument}, got {observed.Count - before}");
            return observed[^1].Value;
        }

        /// <summary>Completes once <paramref name="condition"/> holds, checked after every new measurement.</summary>
        public async Task WaitForAsync(Func<Recorder, bool> condition, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (true)
            {
                // Counts first, then the condition: a measurement landing in between completes a wait below at once.
                var counters = _counters.Values.Select(c => (Collector: c, Count: c.GetMeasurementSnapshot().Count)).ToList();
                var durations = _duration.GetMeasurementSnapshot().Count;
                if (condition(this))
                {
                    return;
                }

                var next = counters.Select(c => c.Collector.WaitForMeasurementsAsync(c.Count + 1, deadline.Token))
                    .Append(_duration.WaitForMeasurementsAsync(durations + 1, deadline.Token));
                await Task.WhenAny(next).WaitAsync(deadline.Token);
                deadline.Token.ThrowIfCancellationRequested();
            }
        }

        public void Dispose()
        {
            foreach (var counter in _counters.Values)
            {
                counter.Dispose();
            }

            _duration.Dispose();
            _breaker.Dispose();
        }
    }
}
