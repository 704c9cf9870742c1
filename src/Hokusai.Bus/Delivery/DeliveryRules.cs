namespace Hokusai.Bus;

/// <summary>
/// The delivery rules of docs/INTEGRATION.md ("The webhook guide, made exact"), one to one, as one pure function of
/// what is known after an attempt. Where a wait happens (in the host or in RabbitMQ) is not a rule of delivery but of
/// the hold: <see cref="WebhookDelivery"/> decides it.
/// </summary>
internal static class DeliveryRules
{
    /// <summary>What the breaker knew when the attempt was made and answered.</summary>
    /// <param name="WasTrial">The attempt was the half-open breaker's one trial.</param>
    /// <param name="LastSuccessAt">When any delivery to this endpoint last succeeded on this host.</param>
    /// <param name="OthersWaiting">Other messages waiting for the breaker now.</param>
    public readonly record struct BreakerFacts(bool WasTrial, DateTimeOffset? LastSuccessAt, int OthersWaiting);

    /// <summary>
    /// After an attempt made at <paramref name="at"/> with <paramref name="result"/>:
    /// <list type="number">
    /// <item>Success and failure: any 2xx is delivered.</item>
    /// <item>413 and 431 are about the message: <c>_error</c> at once, no retry.</item>
    /// <item>Circuit breaker: a failed trial uses up no retry; the message waits one recovery time, and if others are
    /// waiting it goes to the back, through RabbitMQ.</item>
    /// <item>When a registration goes to <c>_error</c>: its retries are spent and the endpoint accepted another
    /// delivery since this one's previous failure; spent without that proof, it waits one recovery time.</item>
    /// <item>Retries: otherwise the next attempt waits <c>RetryDelay × 2^(n-1)</c>, or a longer <c>Retry-After</c>
    /// (429, 503) capped at <c>MaxRetryAfter</c>.</item>
    /// </list>
    /// </summary>
    public static DeliveryDecision Decide(
        string idempotencyKey, DeliveryHistory history, AttemptResult result, DateTimeOffset at, BreakerFacts breaker,
        HokusaiWebhookOptions policy)
    {
        if (result.Succeeded)
        {
            return new(DeliveryDecisionKind.Delivered, history.Succeeded(at));
        }

        var previousFailure = history.LastFailureAt ?? at;
        var failed = history.Failed(at, result.Reason, counts: !breaker.WasTrial);
        if (result.IsPermanent)
        {
            return new(DeliveryDecisionKind.Rejected, failed, Failure: new(idempotencyKey, failed.Attempts,
                result.Reason + ": the endpoint refuses this message's size, so it is not retried"));
        }

        if (breaker.WasTrial)
        {
            var wait = new DeliveryDecision(DeliveryDecisionKind.Wait, failed, policy.CircuitBreakerRecoveryTime);
            return breaker.OthersWaiting > 0 ? wait.InRabbitMq() : wait;
        }

        if (failed.Attempts > policy.MaxRetries)
        {
            failed = failed with { ExhaustedAt = failed.ExhaustedAt ?? at };
            return breaker.LastSuccessAt >= previousFailure
                ? new(DeliveryDecisionKind.DeadLetter, failed, Failure: new(idempotencyKey, failed.Attempts, result.Reason))
                : new(DeliveryDecisionKind.Wait, failed, policy.CircuitBreakerRecoveryTime);
        }

        return new(DeliveryDecisionKind.Retry, failed, Backoff(failed.Attempts, result, policy));
    }

    /// <summary>
    /// After failed attempt <paramref name="attempts"/>: <c>RetryDelay × 2^(attempts-1)</c>, or a longer
    /// <c>Retry-After</c> (429/503), capped at <see cref="HokusaiWebhookOptions.MaxRetryAfter"/>.
    /// </summary>
    public static TimeSpan Backoff(int attempts, AttemptResult result, HokusaiWebhookOptions policy)
    {
        var backoff = policy.RetryDelay * Math.Pow(2, attempts - 1);
        if (result.RetryAfter is { } retryAfter)
        {
            var honoured = retryAfter < policy.MaxRetryAfter ? retryAfter : policy.MaxRetryAfter;
            return honoured > backoff ? honoured : backoff;
        }

        return backoff;
    }
}
