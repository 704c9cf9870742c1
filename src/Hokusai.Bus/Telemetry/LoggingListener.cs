using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>Delivery events as log lines (<see cref="Log"/>): one listener of the telemetry channel.</summary>
internal sealed class LoggingListener(ILogger<WebhookDelivery> logger) : IWebhookDeliveryListener
{
    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        switch (deliveryEvent)
        {
            case WebhookAttemptFinished e:
                Log.Attempt(logger, e.Kind == WebhookAttemptKind.Accepted ? LogLevel.Debug : LogLevel.Information,
                    e.IdempotencyKey, e.Url, e.Attempt, e.Outcome, e.Duration.TotalMilliseconds, e.IsTrial);
                break;
            case WebhookRetryScheduled e:
                Log.RetryScheduled(logger, e.Url, e.NextAttempt, e.Delay.TotalMilliseconds);
                break;
            case WebhookDeferred e:
                Log.Deferred(logger, e.IdempotencyKey, e.Url, e.Delay.TotalMilliseconds, e.Attempts, e.Reason);
                break;
            case WebhookDelivered e:
                Log.Delivered(logger, e.Attempts > 1 ? LogLevel.Information : LogLevel.Debug,
                    e.IdempotencyKey, e.Url, e.Attempts, e.Duration.TotalMilliseconds);
                break;
            case WebhookFailed e:
                Log.DeliveryFailed(logger, e.IdempotencyKey, e.Url, e.Attempts, e.Reason);
                break;
            case WebhookBreakerChanged e:
                Log.BreakerChanged(logger, e.Url, e.From, e.To);
                break;
            case WebhookFiltered e:
                Log.Filtered(logger, e.Endpoint, e.IdempotencyKey, e.Reason);
                break;
        }
    }
}
