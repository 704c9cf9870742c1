using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Hokusai.Bus;

/// <summary>
/// Delivers one body with the guide's policy (exponential-backoff retries honouring a longer <c>Retry-After</c>, a
/// timeout per attempt, the destination's <see cref="WebhookCircuitBreaker"/>), never holding the message longer
/// than <c>WEBHOOK_MAX_HOLD</c>: waits that fit in the hold happen here (Polly's retry), longer ones are handed back
/// as <see cref="DeliveryDecisionKind.Later"/> for RabbitMQ to hold (see <see cref="Redelivery"/>).
/// <para>The rules, each with the reason it exists:</para>
/// <list type="bullet">
/// <item>Attempts count against <c>WEBHOOK_MAX_RETRIES</c> only while the breaker is closed; a failed half-open
/// trial does not count, so an outage of any length is waiting, never dead-lettering.</item>
/// <item>A message whose retries have run out goes to <c>_error</c> only once the endpoint has accepted another
/// delivery since the message's previous failure: proof that the endpoint is up and refuses this message. Until
/// then it is tried again every recovery time, so a real outage never dead-letters it and, with no other traffic,
/// it blocks nothing.</item>
/// <item>After a failed trial, a message that others are waiting behind goes back to RabbitMQ, so trials rotate
/// across the waiting messages instead of one refused message keeping the breaker open for all.</item>
/// <item>413 and 431 are about the message, not the endpoint: <c>_error</c> at once, never counted by the breaker.</item>
/// </list>
/// </summary>
internal sealed class WebhookDelivery
{
    private static readonly ResiliencePropertyKey<DeliveryState> StateKey = new("Hokusai.Bus.Delivery");

    private readonly WebhookHttpSender _sender;
    private readonly WebhookCircuitBreaker _breaker;
    private readonly EndpointTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly WebhookSigner _signer;
    private readonly string _userAgent;
    private readonly StandardWebhookSigner? _standardSigner;
    private readonly HokusaiWebhookOptions _settings;
    private readonly Uri _url;
    private readonly string _shownUrl;
    private readonly ResiliencePipeline<AttemptResult> _retry;
    private readonly CancellationToken _stopping;
    private readonly HoldLimit _holdLimit;

    public WebhookDelivery(
        WebhookHttpSender sender,
        WebhookCircuitBreaker breaker,
        EndpointTelemetry telemetry,
        HokusaiWebhookOptions settings,
        TimeProvider time,
        CancellationToken stopping,
        HoldLimit? holdLimit = null)
    {
        _settings = settings;
        _holdLimit = holdLimit ?? new HoldLimit(time);
        _stopping = stopping;
        _sender = sender;
        _breaker = breaker;
        _telemetry = telemetry;
        _time = time;
        // The MLflow event goes out exactly as the pipeline's publisher sent it: sha256=<hex>, its User-Agent.
        var mlflow = _settings.PayloadFormat == WebhookPayloadFormat.Mlflow;
        _signer = new WebhookSigner(_settings.Secret, mlflow ? SignatureFormat.Sha256Prefixed : _settings.SignatureFormat);
        _userAgent = mlflow ? MlflowEvent.UserAgent : WebhookHttpSender.UserAgent;
        _standardSigner = _settings.StandardSignatures
            ? new StandardWebhookSigner([_settings.Secret, .. _settings.RotationSecrets])
            : null;
        _url = _settings.Url!;
        _shownUrl = WebhookUrl.Redact(_url);
        _retry = BuildRetry(time);
    }

    /// <summary>Records that the endpoint's filter left a registration out (no request is made).</summary>
    public void Filtered(string idempotencyKey, string reason) =>
        _telemetry.Write(new WebhookFiltered(_shownUrl, idempotencyKey, reason));

    /// <summary>
    /// Signs and POSTs <paramref name="body"/> until it is accepted, the retries are spent, or the next wait does not
    /// fit in the hold. Only the caller's cancellation throws.
    /// </summary>
    public async Task<DeliveryDecision> DeliverAsync(
        ReadOnlyMemory<byte> body, string idempotencyKey, DeliveryHistory history, CancellationToken cancellationToken)
    {
        var request = new WebhookDeliveryRequest(body, _signer.Sign(body.Span), idempotencyKey, _userAgent);
        var started = _time.GetTimestamp();
        using var held = _holdLimit.Hold();
        var state = new DeliveryState(this, request, history, _time.GetUtcNow() + _holdLimit.Of(_settings.MaxHold), cancellationToken);

        // Waits (retry delays, an open breaker) end early when the host starts stopping; HTTP attempts in flight do not.
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        var context = ResilienceContextPool.Shared.Get(waits.Token);
        context.Properties.Set(StateKey, state);
        Outcome<AttemptResult> outcome;
        try
        {
            outcome = await _retry.ExecuteOutcomeAsync(
                static async (context, state) => Outcome.FromResult(await state.Delivery.AttemptAsync(state, context.CancellationToken)
                    .ConfigureAwait(false)),
                context, state).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!state.Decided)
        {
            if (!_stopping.IsCancellationRequested)
            {
                outcome.ThrowIfException();
            }

            // The host is stopping while this message waits in it: hand the rest of the wait, and the attempts made so
            // far, to RabbitMQ now, while the message can still be acknowledged, so the next host continues the schedule.
            state.Decide(DeliveryDecision.LaterBy(Positive(state.PlannedWait ?? _settings.RetryDelay), state.History));
        }

        var decision = state.Decision;
        // From the first attempt, which may have been made by another hold (even another host), to this outcome.
        var elapsed = decision.History.FirstAttemptAt is { } first && _time.GetUtcNow() - first is { } sinceFirst
                      && sinceFirst > _time.GetElapsedTime(started)
            ? sinceFirst
            : _time.GetElapsedTime(started);
        switch (decision.Kind)
        {
            case DeliveryDecisionKind.Delivered:
                _telemetry.Write(new WebhookDelivered(_shownUrl, idempotencyKey, decision.History.Requests + 1, elapsed));
                break;
            case DeliveryDecisionKind.Later:
                _telemetry.Write(new WebhookDeferred(_shownUrl, idempotencyKey, decision.Delay, decision.History.Attempts,
                    decision.History.LastReason ?? "circuit breaker open"));
                break;
            default:
                _telemetry.Write(new WebhookFailed(_shownUrl, idempotencyKey, decision.Failure!.Attempts, decision.Failure.LastReason, elapsed));
                break;
        }

        return decision;
    }

    private async ValueTask<AttemptResult> AttemptAsync(DeliveryState state, CancellationToken waits)
    {
        // Wait for the breaker no longer than leaves room for one attempt inside the hold.
        var room = state.HoldUntil - _time.GetUtcNow() - _settings.Timeout;
        WebhookCircuitBreaker.Permit? permit;
        try
        {
            permit = room > TimeSpan.Zero ? await _breaker.AcquireAsync(room, waits).ConfigureAwait(false) : null;
        }
        catch (OperationCanceledException) when (!state.ConsumeToken.IsCancellationRequested)
        {
            // The host is stopping while this message waits for the breaker (see DeliverAsync).
            state.PlannedWait = _breaker.UntilNextTrial;
            return AttemptResult.NotSent;
        }

        if (permit is not { } granted)
        {
            state.Decide(DeliveryDecision.LaterBy(Positive(_breaker.UntilNextTrial), state.History));
            return AttemptResult.NotSent;
        }

        var cancellationToken = state.ConsumeToken;

        var started = _time.GetTimestamp();
        var attemptAt = _time.GetUtcNow();
        AttemptResult result;
        try
        {
            result = await _sender.SendAsync(_url, SignedForNow(state.Request), _settings.Timeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            _breaker.Abandon(granted);
            throw;
        }

        _breaker.Record(granted, result.Succeeded || result.IsPermanent);
        _telemetry.Write(new WebhookAttemptFinished(_shownUrl, state.Request.IdempotencyKey, state.History.Requests + 1,
            result.Kind, result.StatusCode, result.Reason, _time.GetElapsedTime(started), granted.IsTrial));

        if (result.Succeeded)
        {
            state.Decide(DeliveryDecision.Delivered(state.History));
            return result;
        }

        var previousFailure = state.History.LastFailureAt ?? attemptAt;
        var history = state.History.Failed(attemptAt, result.Reason, counts: !granted.IsTrial);
        if (result.IsPermanent)
        {
            state.Decide(DeliveryDecision.Rejected(history, new WebhookDeliveryException(
                state.Request.IdempotencyKey, history.Attempts, result.Reason + ": the endpoint refuses this message's size, so it is not retried")));
            return result;
        }

        TimeSpan next;
        if (granted.IsTrial)
        {
            // The trial failed and reopened the breaker: the next request goes out after the recovery time, and if
            // others are waiting, this message goes to the back so that one of them is the next trial.
            next = _settings.CircuitBreakerRecoveryTime;
            if (_breaker.Waiting > 0)
            {
                state.Decide(DeliveryDecision.LaterBy(next, history));
                return result;
            }
        }
        else if (history.Attempts > _settings.MaxRetries)
        {
            history = history with { ExhaustedAt = history.ExhaustedAt ?? attemptAt };
            if (_breaker.LastSuccessAt >= previousFailure)
            {
                state.Decide(DeliveryDecision.DeadLetter(history,
                    new WebhookDeliveryException(state.Request.IdempotencyKey, history.Attempts, result.Reason)));
                return result;
            }

            // Retries spent, but nothing shows the endpoint is up: this may be an outage. Try again later.
            next = _settings.CircuitBreakerRecoveryTime;
        }
        else
        {
            next = Backoff(history.Attempts, result);
            _telemetry.Write(new WebhookRetryScheduled(_shownUrl, state.Request.IdempotencyKey, history.Attempts + 1, next));
        }

        state.History = history;
        state.PlannedWait = next;
        if (_time.GetUtcNow() + next + _settings.Timeout <= state.HoldUntil)
        {
            state.WaitInHost = next;
        }
        else
        {
            state.Decide(DeliveryDecision.LaterBy(next, history));
        }

        return result;
    }

    /// <summary>
    /// After failed attempt <paramref name="attempts"/>: <c>WEBHOOK_RETRY_DELAY × 2^(attempts-1)</c>, or a longer
    /// <c>Retry-After</c> (429/503), capped at <see cref="HokusaiWebhookOptions.MaxRetryAfter"/>.
    /// </summary>
    private TimeSpan Backoff(int attempts, AttemptResult result)
    {
        var backoff = _settings.RetryDelay * Math.Pow(2, attempts - 1);
        if (result.RetryAfter is { } retryAfter)
        {
            var honoured = retryAfter < _settings.MaxRetryAfter ? retryAfter : _settings.MaxRetryAfter;
            return honoured > backoff ? honoured : backoff;
        }

        return backoff;
    }

    private static TimeSpan Positive(TimeSpan delay) => delay > TimeSpan.Zero ? delay : TimeSpan.FromMilliseconds(1);

    /// <summary>Adds this attempt's Standard Webhooks timestamp and signature, when they are on.</summary>
    private WebhookDeliveryRequest SignedForNow(WebhookDeliveryRequest request)
    {
        if (_standardSigner is null)
        {
            return request;
        }

        var now = _time.GetUtcNow();
        return request with
        {
            Standard = new StandardSignature(
                StandardWebhookHeaders.FormatTimestamp(now),
                _standardSigner.Sign(request.IdempotencyKey, now, request.Body.Span)),
        };
    }

    /// <summary>Polly runs the waits that fit in the hold; <see cref="AttemptAsync"/> decides each one.</summary>
    private static ResiliencePipeline<AttemptResult> BuildRetry(TimeProvider time) =>
        new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = int.MaxValue,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(args.Context.Properties.GetValue(StateKey, null!).WaitInHost is not null),
                DelayGenerator = static args =>
                {
                    var state = args.Context.Properties.GetValue(StateKey, null!);
                    var wait = state.WaitInHost;
                    state.WaitInHost = null;
                    return ValueTask.FromResult(wait);
                },
            })
            .Build();

    private sealed class DeliveryState(
        WebhookDelivery delivery, WebhookDeliveryRequest request, DeliveryHistory history, DateTimeOffset holdUntil,
        CancellationToken consumeToken)
    {
        /// <summary>MassTransit's token: cancels HTTP attempts only when the host gives up waiting for them.</summary>
        public CancellationToken ConsumeToken { get; } = consumeToken;

        /// <summary>Whether <see cref="Decide"/> was called; not when a wait was cut short by the host stopping.</summary>
        public bool Decided { get; private set; }

        public WebhookDelivery Delivery { get; } = delivery;

        public WebhookDeliveryRequest Request { get; } = request;

        public DateTimeOffset HoldUntil { get; } = holdUntil;

        public DeliveryHistory History { get; set; } = history;

        /// <summary>Set when the next attempt waits here; Polly reads and clears it.</summary>
        public TimeSpan? WaitInHost { get; set; }

        /// <summary>The wait planned after the last failed attempt, wherever it happens.</summary>
        public TimeSpan? PlannedWait { get; set; }

        public DeliveryDecision Decision { get; private set; } = DeliveryDecision.LaterBy(TimeSpan.Zero, history);

        public void Decide(DeliveryDecision decision)
        {
            Decided = true;
            Decision = decision;
            History = decision.History;
            WaitInHost = null;
        }
    }
}
