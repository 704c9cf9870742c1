using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// Several hosts' breakers for one endpoint acting as one (<see cref="BreakerFleet"/>), on one fake clock, with the
/// signals RabbitMQ would carry handed from each host to every other by <see cref="Deliver"/>: the guide's "after 5
/// consecutive failures the circuit breaker opens and stops sending requests for 60 seconds" held across the fleet.
/// </summary>
public sealed class FleetBreakerTests
{
    private const int Threshold = 5;
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(32); // the default 30 s timeout + 2 s

    private readonly FakeTimeProvider _time = new();
    private readonly Queue<(int From, WebhookBreakerSignalKind Kind, TimeSpan OpenFor)> _wire = new();
    private readonly List<WebhookCircuitBreaker> _hosts = [];

    private WebhookCircuitBreaker Host(int index)
    {
        while (_hosts.Count <= index)
        {
            var number = _hosts.Count;
            var breaker = new WebhookCircuitBreaker(Threshold, Recovery, _time, followGrace: Grace);
            breaker.TellTo((kind, openFor) => _wire.Enqueue((number, kind, openFor)));
            _hosts.Add(breaker);
        }

        return _hosts[index];
    }

    /// <summary>Hands every signal sent so far to every other host, as the fanout exchange would; host 0 leads ties.</summary>
    private int Deliver()
    {
        var delivered = 0;
        while (_wire.TryDequeue(out var signal))
        {
            delivered++;
            for (var to = 0; to < _hosts.Count; to++)
            {
                if (to != signal.From)
                {
                    _hosts[to].Heard(signal.Kind, signal.OpenFor, senderLeads: signal.From < to);
                }
            }
        }

        return delivered;
    }

    private static async Task<WebhookCircuitBreaker.Permit?> TryPermit(WebhookCircuitBreaker breaker) =>
        await breaker.AcquireAsync(TimeSpan.Zero, CancellationToken.None);

    [Fact]
    public async Task Failures_on_different_hosts_count_toward_one_threshold_and_every_host_opens()
    {
        for (var i = 0; i < Threshold; i++)
        {
            var host = Host(i % 3);
            host.Record((await TryPermit(host))!.Value, success: false);
            Deliver();
        }

        // 2 + 2 + 1 failures across three hosts: one threshold, not three.
        Assert.All(_hosts, h => Assert.Equal(WebhookCircuitState.Open, h.State));
        Assert.All(_hosts, h => Assert.True(h.UntilNextTrial >= Recovery - TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task While_open_the_fleet_makes_one_trial_per_recovery_time_and_its_success_closes_every_host()
    {
        await OpenOnHost(1);

        _time.Advance(Recovery);
        var permits = new List<(int Host, WebhookCircuitBreaker.Permit Permit)>();
        for (var h = 0; h < 3; h++)
        {
            if (await TryPermit(_hosts[h]) is { } permit)
            {
                permits.Add((h, permit));
            }
        }

        // Only the host that opened it tries; the others follow.
        var trial = Assert.Single(permits);
        Assert.Equal(1, trial.Host);
        Assert.True(trial.Permit.IsTrial);

        _hosts[1].Record(trial.Permit, success: false); // the trial fails: open again, for everyone
        Deliver();
        _time.Advance(Recovery);
        var second = new List<int>();
        for (var h = 0; h < 3; h++)
        {
            if (await TryPermit(_hosts[h]) is { } permit)
            {
                second.Add(h);
                _hosts[h].Record(permit, success: true);
            }
        }

        Assert.Equal([1], second);
        Deliver();
        Assert.All(_hosts, h => Assert.Equal(WebhookCircuitState.Closed, h.State));
    }

    [Fact]
    public async Task Two_hosts_that_open_at_once_agree_on_one_leader()
    {
        Host(2);
        for (var i = 0; i < Threshold; i++)
        {
            // Hosts 0 and 1 each see the threshold before hearing the other: both open and both say so.
            foreach (var h in new[] { 0, 1 })
            {
                _hosts[h].Record((await TryPermit(_hosts[h]))!.Value, success: false);
            }
        }

        Deliver();
        _time.Advance(Recovery);
        var trials = 0;
        foreach (var host in _hosts)
        {
            trials += await TryPermit(host) is not null ? 1 : 0;
        }

        Assert.Equal(1, trials);
    }

    [Fact]
    public async Task When_the_leader_goes_silent_the_followers_try_after_the_grace()
    {
        await OpenOnHost(0);
        _hosts.RemoveAt(0); // host 0 dies with the breaker open: its trial never happens
        _time.Advance(Recovery);
        Assert.Null(await TryPermit(_hosts[0]));

        _time.Advance(Grace);
        var permit = await TryPermit(_hosts[0]);
        Assert.True(permit?.IsTrial);
    }

    [Fact]
    public async Task A_host_that_starts_while_the_breaker_is_open_asks_and_learns_it()
    {
        await OpenOnHost(0);
        _time.Advance(TimeSpan.FromSeconds(20));

        var newcomer = new WebhookCircuitBreaker(Threshold, Recovery, _time, followGrace: Grace);
        _hosts[0].Heard(WebhookBreakerSignalKind.Asked, TimeSpan.Zero, senderLeads: false); // the newcomer asks
        var answer = Assert.Single(_wire);
        Assert.Equal(WebhookBreakerSignalKind.Opened, answer.Kind);
        Assert.Equal(TimeSpan.FromSeconds(40), answer.OpenFor);
        newcomer.Heard(answer.Kind, answer.OpenFor, senderLeads: true);

        Assert.Equal(WebhookCircuitState.Open, newcomer.State);
        Assert.Null(await TryPermit(newcomer));
    }

    [Fact]
    public async Task A_host_alone_acts_as_before_and_a_success_while_closed_tells_nobody()
    {
        var host = Host(0);
        host.Record((await TryPermit(host))!.Value, success: true);
        Assert.Empty(_wire);

        for (var i = 0; i < Threshold; i++)
        {
            host.Record((await TryPermit(host))!.Value, success: false);
        }

        Assert.Equal(WebhookCircuitState.Open, host.State);
        Assert.Equal(Threshold, Deliver()); // four failures, then the opening
    }

    [Theory]
    [InlineData(10_000_000)] // a signal from a host with a far longer recovery time, or a bad one
    [InlineData(-5)]
    public async Task Another_hosts_opening_never_lasts_longer_than_this_hosts_own_recovery_time(int seconds)
    {
        var host = Host(0);
        host.Heard(WebhookBreakerSignalKind.Opened, TimeSpan.FromSeconds(seconds), senderLeads: true);

        Assert.Equal(WebhookCircuitState.Open, host.State);
        Assert.True(host.UntilNextTrial <= Recovery + Grace, $"open for {host.UntilNextTrial}");
        _time.Advance(Recovery + Grace);
        Assert.True((await TryPermit(host))?.IsTrial);
    }

    [Fact]
    public void A_signal_of_a_kind_this_host_does_not_know_changes_nothing()
    {
        var host = Host(0);
        host.Heard((WebhookBreakerSignalKind)42, TimeSpan.FromSeconds(60), senderLeads: true);

        Assert.Equal(WebhookCircuitState.Closed, host.State);
        Assert.Empty(_wire);
    }

    [Fact]
    public void A_signal_without_a_host_or_an_endpoint_is_ignored_without_an_exception()
    {
        var fleet = new BreakerFleet();
        var breaker = new WebhookCircuitBreaker(1, Recovery, _time, followGrace: Grace);
        fleet.Add("default", breaker);

        fleet.Heard(new WebhookBreakerSignal(WebhookBreakerSignalKind.Opened, null!, "other-host", Recovery));
        fleet.Heard(new WebhookBreakerSignal(WebhookBreakerSignalKind.Opened, "default", null!, Recovery));
        fleet.Heard(new WebhookBreakerSignal(WebhookBreakerSignalKind.Opened, "default", fleet.HostId, Recovery));
        Assert.Equal(WebhookCircuitState.Closed, breaker.State);

        fleet.Heard(new WebhookBreakerSignal(WebhookBreakerSignalKind.Opened, "default", "other-host", Recovery));
        Assert.Equal(WebhookCircuitState.Open, breaker.State);
    }

    private async Task OpenOnHost(int leader)
    {
        Host(2);
        for (var i = 0; i < Threshold; i++)
        {
            _hosts[leader].Record((await TryPermit(_hosts[leader]))!.Value, success: false);
        }

        Deliver();
        Assert.All(_hosts, h => Assert.Equal(WebhookCircuitState.Open, h.State));
    }
}
