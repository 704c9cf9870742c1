using System.Net;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>The delivery rules of docs/INTEGRATION.md, each as <see cref="DeliveryRules.Decide"/> answers it: no HTTP, no clock.</summary>
public sealed class DeliveryRulesTests
{
    private const string Key = "k-1";
    private static readonly DateTimeOffset At = new(2024, 1, 15, 10, 30, 0, TimeSpan.Zero);
    private static readonly HokusaiWebhookOptions Guide = new() { Url = new("https://hooks.example.com/"), Secret = "s" };
    private static readonly DeliveryRules.BreakerFacts Closed = new(WasTrial: false, LastSuccessAt: null, OthersWaiting: 0);

    private static AttemptResult Status(int status, TimeSpan? retryAfter = null) => AttemptResult.FromResponse((HttpStatusCode)status, retryAfter);

    [Theory]
    [InlineData(200)]
    [InlineData(204)]
    [InlineData(299)]
    public void Any_2xx_is_delivered_and_counted_as_a_request(int status)
    {
        var decision = DeliveryRules.Decide(Key, new DeliveryHistory(Requests: 2), Status(status), At, Closed, Guide);

        Assert.Equal(DeliveryDecisionKind.Delivered, decision.Kind);
        Assert.Equal(3, decision.History.Requests);
        Assert.Equal(At, decision.History.FirstAttemptAt);
    }

    [Theory]
    [InlineData(413)]
    [InlineData(431)]
    public void A_413_or_431_goes_to_error_at_once_without_a_retry(int status)
    {
        var decision = DeliveryRules.Decide(Key, new DeliveryHistory(), Status(status), At, Closed, Guide);

        Assert.Equal(DeliveryDecisionKind.Rejected, decision.Kind);
        Assert.Contains("refuses this message's size", decision.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal(1, decision.Failure.Attempts);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(4, 16)]
    [InlineData(5, 32)]
    public void After_failed_attempt_n_the_retry_waits_the_retry_delay_times_2_to_the_n_minus_1(int attempt, int seconds)
    {
        var decision = DeliveryRules.Decide(Key, new DeliveryHistory(Attempts: attempt - 1), Status(500), At, Closed, Guide);

        Assert.Equal(DeliveryDecisionKind.Retry, decision.Kind);
        Assert.Equal(TimeSpan.FromSeconds(seconds), decision.Delay);
        Assert.Equal(attempt, decision.History.Attempts);
        Assert.Equal("HTTP 500 (InternalServerError)", decision.History.LastReason);
    }

    [Theory]
    [InlineData(429, 10, 10)]      // a longer Retry-After wins
    [InlineData(503, 1, 2)]        // a shorter one does not
    [InlineData(503, 7200, 3600)]  // capped at an hour
    [InlineData(500, 10, 2)]       // only on 429 and 503 (the sender reads it only there)
    public void A_longer_Retry_After_on_429_or_503_wins_capped_at_an_hour(int status, int retryAfter, int seconds)
    {
        var result = Status(status, status is 429 or 503 ? TimeSpan.FromSeconds(retryAfter) : null);

        Assert.Equal(TimeSpan.FromSeconds(seconds), DeliveryRules.Decide(Key, new DeliveryHistory(), result, At, Closed, Guide).Delay);
    }

    [Fact]
    public void Spent_retries_go_to_error_only_when_the_endpoint_accepted_another_since_the_previous_failure()
    {
        var spent = new DeliveryHistory(Attempts: 5, LastFailureAt: At.AddSeconds(-32));

        var proven = DeliveryRules.Decide(Key, spent, Status(500), At, Closed with { LastSuccessAt = At.AddSeconds(-10) }, Guide);
        var outage = DeliveryRules.Decide(Key, spent, Status(500), At, Closed with { LastSuccessAt = At.AddSeconds(-60) }, Guide);
        var never = DeliveryRules.Decide(Key, spent, Status(500), At, Closed, Guide);

        Assert.Equal(DeliveryDecisionKind.DeadLetter, proven.Kind);
        Assert.Equal("Webhook delivery of k-1 failed after 6 attempt(s); last: HTTP 500 (InternalServerError).", proven.Failure!.Message);
        Assert.Equal(At, proven.History.ExhaustedAt);
        foreach (var waiting in new[] { outage, never })
        {
            Assert.Equal(DeliveryDecisionKind.Wait, waiting.Kind);
            Assert.Equal(Guide.CircuitBreakerRecoveryTime, waiting.Delay);
            Assert.Equal(At, waiting.History.ExhaustedAt);
        }
    }

    [Fact]
    public void A_failed_trial_uses_up_no_retry_and_waits_one_recovery_time()
    {
        var decision = DeliveryRules.Decide(Key, new DeliveryHistory(Attempts: 5, Requests: 5), Status(500), At,
            Closed with { WasTrial = true }, Guide);

        Assert.Equal(DeliveryDecisionKind.Wait, decision.Kind);
        Assert.Equal(5, decision.History.Attempts);
        Assert.Equal(6, decision.History.Requests);
        Assert.Equal(TimeSpan.FromSeconds(60), decision.Delay);
    }

    [Fact]
    public void A_failed_trial_with_others_waiting_goes_to_the_back_through_RabbitMQ()
    {
        var decision = DeliveryRules.Decide(Key, new DeliveryHistory(Redeliveries: 1), Status(500), At,
            new DeliveryRules.BreakerFacts(WasTrial: true, LastSuccessAt: null, OthersWaiting: 3), Guide);

        Assert.Equal(DeliveryDecisionKind.Later, decision.Kind);
        Assert.Equal(TimeSpan.FromSeconds(60), decision.Delay);
        Assert.Equal(2, decision.History.Redeliveries);
    }

    [Fact]
    public void A_wait_moved_to_RabbitMQ_counts_one_more_redelivery_and_is_never_zero()
    {
        var later = new DeliveryDecision(DeliveryDecisionKind.Wait, new DeliveryHistory(Redeliveries: 4), TimeSpan.Zero).InRabbitMq();

        Assert.Equal(DeliveryDecisionKind.Later, later.Kind);
        Assert.Equal(5, later.History.Redeliveries);
        Assert.True(later.Delay > TimeSpan.Zero);
    }
}
