using Hokusai.Bus.Contracts;
using Polly;
using Polly.Timeout;

namespace Hokusai.Bus;

/// <summary>
/// Delivers one body to one endpoint: a loop of breaker permit, attempt, and <see cref="DeliveryRules.Decide"/>, that
/// waits in the host only while the wait fits in the hold (<c>WEBHOOK_MAX_HOLD</c>, lowered after an acknowledgement
/// timeout by <see cref="HoldLimit"/>) and otherwise hands the wait to RabbitMQ (<see cref="DeliveryDecisionKind.Later"/>,
/// see <see cref="Redelivery"/>). Each attempt is bounded by <c>WEBHOOK_TIMEOUT</c>: Polly's timeout strategy on the
/// injected clock, in a pipeline built once per endpoint.
/// </summary>
internal sealed class WebhookDelivery
{
    private readonly WebhookHttpSender _sender;
    private readonly WebhookCircuitBreaker _breaker;
    private readonly EndpointTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly WebhookSigner _signer;
    private readonly string _userAgent;
    private readonly StandardWebhookSigner? _standardSigner;
    private readonly DeltaOneSigner _deltaOneSigner;
    private readonly HokusaiWebhookOptions _settings;
    private readonly Uri _url;
    private readonly string _shownUrl;
    private readonly CancellationToken _stopping;
    private readonly HoldLimit _holdLimit;
    private readonly ResiliencePipeline _attemptTimeout;

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
        _stopping = stopping;
        _holdLimit = holdLimit ?? new HoldLimit(time);
        _sender = sender;
        _breaker = breaker;
        _telemetry = telemetry;
        _time = time;
        _attemptTimeout = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(new TimeoutStrategyOptions { Timeout = settings.Timeout })
            .Build();
        // The MLflow event goes out exactly as the pipeline's publisher sent it: sha256=<hex>, its User-Agent.
        var mlflow = _settings.PayloadFormat == WebhookPayloadFormat.Mlflow;
        _signer = new WebhookSigner(_settings.Secret, mlflow ? SignatureFormat.Sha256Prefixed : _settings.SignatureFormat);
        _userAgent = mlflow ? MlflowEvent.UserAgent : WebhookHttpSender.UserAgent;
        _deltaOneSigner = new DeltaOneSigner(_settings.Secret);
        _standardSigner = _settings.StandardSignatures
            ? new StandardWebhookSigner([_settings.Secret, .. _settings.RotationSecrets])
            : null;
        _url = _settings.Url!;
        _shownUrl = WebhookUrl.Redact(_url);
    }

    /// <summary>Records that the endpoint's filter left a registration out (no request is made).</summary>
    public void Filtered(string idempotencyKey, DeliverySubject subject, string reason) =>
        _telemetry.Write(new WebhookFiltered(_shownUrl, idempotencyKey, reason), subject);

    /// <summary>
    /// Signs and POSTs <paramref name="body"/> until a decision is final: delivered, to <c>_error</c>, or a wait that does
    /// not fit in the hold (or the host is stopping) handed to RabbitMQ. Only the caller's cancellation throws. A
    /// registration is signed once, as the endpoint's format asks; a DeltaOne event (<paramref name="deltaOne"/>) per
    /// attempt, as the pipeline signs it, with its User-Agent.
    /// </summary>
    public async Task<DeliveryDecision> DeliverAsync(
        ReadOnlyMemory<byte> body, string idempotencyKey, DeliverySubject subject, DeliveryHistory history,
        CancellationToken cancellationToken, bool deltaOne = false)
    {
        var request = deltaOne
            ? new WebhookDeliveryRequest(body, "", idempotencyKey, DeltaOneSigner.UserAgent, subject, IsDeltaOne: true)
            : new WebhookDeliveryRequest(body, _signer.Sign(body.Span), idempotencyKey, _userAgent, subject);
        var started = _time.GetTimestamp();
        using var held = _holdLimit.Hold();
        var holdUntil = _time.GetUtcNow() + _holdLimit.Of(_settings.MaxHold);
        // Waits (retry delays, an open breaker) end early when the host or the bus stops; HTTP attempts in flight do not.
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);

        var (decision, lastAttempt) = await DecideAsync(request, history, holdUntil, waits.Token, cancellationToken).ConfigureAwait(false);
        Report(decision, lastAttempt, idempotencyKey, subject, _time.GetElapsedTime(started));
        return decision;
    }

    /// <summary>The loop; returns the final decision and the last attempt made in it (null when none was).</summary>
    private async Task<(DeliveryDecision, WebhookAttemptFinished?)> DecideAsync(
        WebhookDeliveryRequest request, DeliveryHistory history, DateTimeOffset holdUntil, CancellationToken waits,
        CancellationToken cancellationToken)
    {
        WebhookAttemptFinished? last = null;
        while (true)
        {
            // 1. A permit from the breaker, waiting no longer than leaves room for one attempt inside the hold.
            var room = holdUntil - _time.GetUtcNow() - _settings.Timeout;
            WebhookCircuitBreaker.Permit? permit;
            try
            {
                permit = room > TimeSpan.Zero ? await _breaker.AcquireAsync(room, waits).ConfigureAwait(false) : null;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                permit = null; // the host is stopping: the wait goes to RabbitMQ now, while the message can be acknowledged
            }

            if (permit is not { } granted)
            {
                return (new DeliveryDecision(DeliveryDecisionKind.Wait, history, _breaker.UntilNextTrial).InRabbitMq(), last);
            }

            // 2. One attempt.
            var at = _time.GetUtcNow();
            (var result, last) = await AttemptAsync(request, granted, history.Requests + 1, cancellationToken).ConfigureAwait(false);

            // 3. The rules.
            var decision = DeliveryRules.Decide(request.IdempotencyKey, history, result, at,
                new DeliveryRules.BreakerFacts(granted.IsTrial, _breaker.LastSuccessAt, _breaker.Waiting), _settings);
            history = decision.History;
            if (decision.IsFinal)
            {
                return (decision, last);
            }

            if (decision.Kind == DeliveryDecisionKind.Retry)
            {
                _telemetry.Write(new WebhookRetryScheduled(_shownUrl, request.IdempotencyKey, history.Attempts + 1, decision.Delay), request.Subject);
            }

            // 4. The wait: here if it and one more attempt fit in the hold, else in RabbitMQ.
            if (_time.GetUtcNow() + decision.Delay + _settings.Timeout > holdUntil)
            {
                return (decision.InRabbitMq(), last);
            }

            try
            {
                await Task.Delay(decision.Delay, _time, waits).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (decision.InRabbitMq(), last); // the host is stopping: the next host continues the schedule
            }
        }
    }

    private async Task<(AttemptResult, WebhookAttemptFinished)> AttemptAsync(
        WebhookDeliveryRequest request, WebhookCircuitBreaker.Permit permit, int number, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        AttemptResult result;
        try
        {
            result = await _attemptTimeout.ExecuteAsync(
                static (state, token) => new ValueTask<AttemptResult>(state.Sender.SendAsync(state.Url, state.Request, token)),
                (Sender: _sender, Url: _url, Request: SignedForNow(request)), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException) when (!cancellationToken.IsCancellationRequested)
        {
            result = AttemptResult.TimedOut(_settings.Timeout);
        }
        catch
        {
            _breaker.Abandon(permit); // cancelled by the caller: the request's outcome is unknown
            throw;
        }

        _breaker.Record(permit, result.Succeeded || result.IsPermanent);
        var finished = _telemetry.Write(new WebhookAttemptFinished(_shownUrl, request.IdempotencyKey, number,
            result.Kind, result.StatusCode, result.Reason, _time.GetElapsedTime(started), permit.IsTrial), request.Subject);
        return (result, finished);
    }

    private void Report(
        DeliveryDecision decision, WebhookAttemptFinished? lastAttempt, string idempotencyKey, DeliverySubject subject, TimeSpan inThisHold)
    {
        // From the first attempt, which may have been made by another hold (even another host), to this outcome.
        var elapsed = decision.History.FirstAttemptAt is { } first && _time.GetUtcNow() - first is var sinceFirst
                      && sinceFirst > inThisHold
            ? sinceFirst
            : inThisHold;
        switch (decision.Kind)
        {
            case DeliveryDecisionKind.Delivered:
                _telemetry.Write(new WebhookDelivered(_shownUrl, idempotencyKey, decision.History.Requests, elapsed)
                {
                    AcceptedAttempt = lastAttempt,
                }, subject);
                break;
            case DeliveryDecisionKind.Later:
                _telemetry.Write(new WebhookDeferred(_shownUrl, idempotencyKey, decision.Delay, decision.History.Attempts,
                    decision.History.LastReason ?? "circuit breaker open"), subject);
                break;
            default:
                _telemetry.Write(new WebhookFailed(_shownUrl, idempotencyKey, decision.Failure!.Attempts, decision.Failure.LastReason, elapsed), subject);
                break;
        }
    }

    /// <summary>
    /// Adds what is signed per attempt: a DeltaOne event's timestamp, nonce and signature, and the Standard Webhooks
    /// timestamp and signature when they are on.
    /// </summary>
    private WebhookDeliveryRequest SignedForNow(WebhookDeliveryRequest request)
    {
        if (_standardSigner is null && !request.IsDeltaOne)
        {
            return request;
        }

        var now = _time.GetUtcNow();
        if (request.IsDeltaOne)
        {
            var (timestamp, nonce) = DeltaOneSigner.NewAttempt(now);
            request = request with
            {
                Signature = _deltaOneSigner.Sign(request.Body.Span, timestamp, nonce),
                DeltaOne = new DeltaOneAttempt(timestamp, nonce),
            };
        }

        return _standardSigner is null ? request : request with
        {
            Standard = new StandardSignature(
                StandardWebhookHeaders.FormatTimestamp(now),
                _standardSigner.Sign(request.IdempotencyKey, now, request.Body.Span)),
        };
    }
}
