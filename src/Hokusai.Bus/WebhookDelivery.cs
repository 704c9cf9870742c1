using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Hokusai.Bus;

/// <summary>
/// Delivers one body with the guide's policy: exponential-backoff retries (Polly), honouring a longer
/// <c>Retry-After</c>, a timeout per attempt, and the destination's <see cref="WebhookCircuitBreaker"/>, whose open
/// periods are waited out without using up a retry.
/// </summary>
internal sealed class WebhookDelivery
{
    private readonly WebhookHttpSender _sender;
    private readonly WebhookCircuitBreaker _breaker;
    private readonly HokusaiBusMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WebhookSigner _signer;
    private readonly StandardWebhookSigner? _standardSigner;
    private readonly Uri _url;
    private readonly string _shownUrl;
    private readonly TimeSpan _timeout;
    private readonly ResiliencePipeline<AttemptResult> _retry;

    public WebhookDelivery(
        WebhookHttpSender sender,
        WebhookCircuitBreaker breaker,
        HokusaiBusMetrics metrics,
        IOptions<HokusaiWebhookOptions> options,
        TimeProvider time,
        ILogger<WebhookDelivery> logger)
    {
        var settings = options.Value;
        _sender = sender;
        _breaker = breaker;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _signer = new WebhookSigner(settings.Secret, settings.SignatureFormat);
        _standardSigner = settings.StandardSignatures
            ? new StandardWebhookSigner([settings.Secret, .. settings.RotationSecrets])
            : null;
        _url = settings.Url!;
        _shownUrl = WebhookUrl.Redact(_url);
        _timeout = settings.Timeout;
        _retry = BuildRetry(settings, time);
    }

    /// <summary>Signs and POSTs <paramref name="body"/> until it is accepted or the retries are spent.</summary>
    /// <exception cref="WebhookDeliveryException">Every attempt failed.</exception>
    public async Task DeliverAsync(ReadOnlyMemory<byte> body, string idempotencyKey, CancellationToken cancellationToken)
    {
        var request = new WebhookDeliveryRequest(body, _signer.Sign(body.Span), idempotencyKey);
        var started = _time.GetTimestamp();
        var state = new DeliveryState(this, request);

        var result = await _retry.ExecuteAsync(
            static (state, token) => state.Delivery.AttemptAsync(state, token), state, cancellationToken)
            .ConfigureAwait(false);

        var elapsed = _time.GetElapsedTime(started);
        if (result.Succeeded)
        {
            _metrics.Delivered(elapsed);
            Log.Delivered(_logger, idempotencyKey, _shownUrl, state.Attempts, elapsed.TotalMilliseconds);
            return;
        }

        _metrics.Failed(elapsed);
        Log.DeliveryFailed(_logger, idempotencyKey, _shownUrl, state.Attempts, result.Reason);
        throw new WebhookDeliveryException(idempotencyKey, state.Attempts, result.Reason);
    }

    private async ValueTask<AttemptResult> AttemptAsync(DeliveryState state, CancellationToken cancellationToken)
    {
        var permit = await _breaker.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var attempt = ++state.Attempts;
        var started = _time.GetTimestamp();
        AttemptResult result;
        try
        {
            result = await _sender.SendAsync(_url, SignedForNow(state.Request), _timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _breaker.Abandon(permit);
            throw;
        }

        _breaker.Record(permit, result.Succeeded);
        Log.Attempt(_logger, state.Request.IdempotencyKey, _shownUrl, attempt, result.Reason,
            _time.GetElapsedTime(started).TotalMilliseconds, permit.IsTrial);
        return result;
    }

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

    private ResiliencePipeline<AttemptResult> BuildRetry(HokusaiWebhookOptions settings, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time };
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { Succeeded: false }),
                DelayGenerator = args => ValueTask.FromResult(LongerRetryAfter(args.Outcome.Result, args.AttemptNumber)),
                OnRetry = args =>
                {
                    _metrics.Retried();
                    Log.RetryScheduled(_logger, _shownUrl, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            });
        }

        return builder.Build();

        // Polly computes RetryDelay * 2^attempt when this returns null; a longer Retry-After (429/503) wins, capped.
        TimeSpan? LongerRetryAfter(AttemptResult result, int attemptNumber)
        {
            if (result.RetryAfter is not { } retryAfter)
            {
                return null;
            }

            var backoff = settings.RetryDelay * Math.Pow(2, attemptNumber);
            var honoured = retryAfter < settings.MaxRetryAfter ? retryAfter : settings.MaxRetryAfter;
            return honoured > backoff ? honoured : null;
        }
    }

    private sealed class DeliveryState(WebhookDelivery delivery, WebhookDeliveryRequest request)
    {
        public WebhookDelivery Delivery { get; } = delivery;

        public WebhookDeliveryRequest Request { get; } = request;

        public int Attempts { get; set; }
    }
}
