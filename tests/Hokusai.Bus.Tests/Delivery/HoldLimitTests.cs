using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>The hold after RabbitMQ times an acknowledgement out: half of what was held, never below a second.</summary>
public sealed class HoldLimitTests
{
    private static readonly TimeSpan Configured = TimeSpan.FromMinutes(5);

    [Fact]
    public void Until_an_ack_timeout_the_configured_hold_applies()
    {
        var limit = new HoldLimit(new FakeTimeProvider());

        Assert.Null(limit.Cap);
        Assert.Equal(Configured, limit.Of(Configured));
    }

    [Fact]
    public void After_an_ack_timeout_the_hold_is_half_of_the_longest_hold_in_progress()
    {
        var time = new FakeTimeProvider();
        var limit = new HoldLimit(time);
        using var oldest = limit.Hold();
        time.Advance(TimeSpan.FromSeconds(20));
        using var younger = limit.Hold();
        time.Advance(TimeSpan.FromSeconds(42)); // held 62 s: a 60 s consumer_timeout, checked a moment later

        var (held, cap) = limit.AcknowledgementTimedOut(Configured);

        Assert.Equal(TimeSpan.FromSeconds(62), held);
        Assert.Equal(TimeSpan.FromSeconds(31), cap);
        Assert.Equal(TimeSpan.FromSeconds(31), limit.Of(Configured));
        Assert.Equal(TimeSpan.FromSeconds(10), limit.Of(TimeSpan.FromSeconds(10))); // a shorter setting still wins
    }

    [Fact]
    public void A_hold_released_just_before_the_timeout_is_seen_still_counts()
    {
        var time = new FakeTimeProvider();
        var limit = new HoldLimit(time);
        var held = limit.Hold();
        time.Advance(TimeSpan.FromSeconds(70));
        held.Dispose(); // MassTransit gave the message up as the channel closed

        Assert.Equal(TimeSpan.FromSeconds(35), limit.AcknowledgementTimedOut(Configured).Limit);
    }

    [Fact]
    public void Each_further_timeout_halves_again_down_to_one_second()
    {
        var time = new FakeTimeProvider();
        var limit = new HoldLimit(time);

        var caps = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            caps.Add(limit.AcknowledgementTimedOut(Configured).Limit); // nothing held now: the limit itself was held
        }

        Assert.Equal([150, 75, 37.5, 18.75, 9.375, 4.6875, 2.34375, 1.171875, 1, 1], caps.Select(c => c.TotalSeconds));
    }

    [Fact]
    public async Task An_ack_timeout_on_one_endpoints_queue_lowers_that_endpoints_hold_only_and_names_its_setting()
    {
        await using var harness = await Harness.StartAsync(new Uri("http://127.0.0.1:9/hook"), o => o.MaxHold = TimeSpan.FromSeconds(100),
            settings: new Dictionary<string, string?>
            {
                ["Hokusai:Webhook:Endpoints:token:Url"] = "http://127.0.0.1:9/token",
                ["Hokusai:Webhook:Endpoints:token:MaxHold"] = "40",
            }, services: s => s.AddFakeLogging());
        var endpoints = harness.Services.GetRequiredService<WebhookEndpointSet>();
        var token = endpoints.All.Single(e => e.Name == "token");

        harness.Services.GetRequiredService<AcknowledgementTimeouts>().ChannelClosed(token.Queue);

        Assert.Equal(TimeSpan.FromSeconds(20), token.HoldLimit.Cap); // half of its own 40 s, not of the default's 100 s
        Assert.Null(endpoints.Default.HoldLimit.Cap);
        Assert.Equal(TimeSpan.FromSeconds(100), endpoints.Default.Settings.MaxHold);
        var logs = harness.Services.GetFakeLogCollector().GetSnapshot();
        var line = Assert.Single(logs, r => r.Id.Name == "AcknowledgementTimedOut").Message;
        Assert.Contains("Hokusai:Webhook:Endpoints:token:MaxHold (now 40 s)", line, StringComparison.Ordinal);
    }
}
