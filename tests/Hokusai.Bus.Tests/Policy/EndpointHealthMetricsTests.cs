using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// <c>hokusai_endpoint_failing_seconds</c> and <c>hokusai_oldest_waiting_seconds</c>, which the alert rules read
/// (<c>compose/prometheus/alerts.yml</c>), on a fake clock: what an endpoint failing for 20 minutes looks like, and a
/// delivery waiting.
/// </summary>
public sealed class EndpointHealthMetricsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-06T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Failing_seconds_run_from_the_last_success_while_attempts_fail_and_are_0_again_after_a_success()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var metrics = new HokusaiBusMetrics(meters, _time);
        using var failing = new MetricCollector<double>(meters, HokusaiNames.MeterName, "hokusai_endpoint_failing_seconds");

        metrics.Write(Attempt(200));
        _time.Advance(TimeSpan.FromMinutes(1));
        metrics.Write(Attempt(503));
        _time.Advance(TimeSpan.FromMinutes(20));
        metrics.Write(Attempt(0));
        failing.RecordObservableInstruments();
        Assert.Equal(21 * 60, failing.LastMeasurement!.Value); // since the last success, not the first failure
        Assert.Contains(new KeyValuePair<string, object?>("endpoint", "site"), failing.LastMeasurement.Tags);

        metrics.Write(Attempt(413)); // refused for what the message is: the endpoint is up
        failing.RecordObservableInstruments();
        Assert.Equal(0, failing.LastMeasurement!.Value);
    }

    [Fact]
    public void The_oldest_waiting_delivery_is_measured_until_it_ends_and_forgotten_a_minute_after_its_try_was_due()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var metrics = new HokusaiBusMetrics(meters, _time);
        using var oldest = new MetricCollector<double>(meters, HokusaiNames.MeterName, "hokusai_oldest_waiting_seconds");

        metrics.Write(new WebhookDeferred("u", "k1", TimeSpan.FromMinutes(5), 6, "HTTP 503") { Endpoint = "site" });
        _time.Advance(TimeSpan.FromMinutes(2));
        metrics.Write(new WebhookRetryScheduled("u", "k2", 2, TimeSpan.FromSeconds(4)) { Endpoint = "site" });
        oldest.RecordObservableInstruments();
        Assert.Equal(120, oldest.LastMeasurement!.Value);

        metrics.Write(new WebhookDelivered("u", "k1", 7, TimeSpan.FromMinutes(2)) { Endpoint = "site" });
        oldest.RecordObservableInstruments();
        Assert.Equal(0, oldest.LastMeasurement!.Value); // k2 arrived now

        _time.Advance(TimeSpan.FromSeconds(65)); // k2's try was due 4 s in, plus a minute: another host must have it
        oldest.RecordObservableInstruments();
        Assert.Equal(0, oldest.LastMeasurement!.Value);
    }

    private static WebhookAttemptFinished Attempt(int status) => new("u", "k", 1,
        status == 0 ? WebhookAttemptKind.ConnectionFailed : status < 300 ? WebhookAttemptKind.Accepted : WebhookAttemptKind.Refused,
        status == 0 ? null : status, $"HTTP {status}", TimeSpan.FromMilliseconds(5), false) { Endpoint = "site" };
}
