using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Stops the host at start-up when a setting is missing or out of range. Every message names the variable to fix
/// and never contains the secret.
/// </summary>
internal sealed class HokusaiWebhookOptionsValidator : IValidateOptions<HokusaiWebhookOptions>
{
    /// <summary>The longest <c>WEBHOOK_MAX_HOLD</c>: a margin below RabbitMQ's default 30 min consumer (ack) timeout.</summary>
    internal static readonly TimeSpan MaxHoldTime = TimeSpan.FromMinutes(20);

    /// <summary>The shortest <c>WEBHOOK_TIMEOUT</c>: below a millisecond no HTTP request can complete.</summary>
    internal static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(1);

    public ValidateOptionsResult Validate(string? name, HokusaiWebhookOptions options)
    {
        var errors = new List<string>(options.ReadErrors);

        if (options.Url is null)
        {
            if (!errors.Exists(e => e.StartsWith("WEBHOOK_URL", StringComparison.Ordinal)))
            {
                errors.Add("WEBHOOK_URL is required: the receiver's absolute http or https URL.");
            }
        }
        else if (!options.Url.IsAbsoluteUri || options.Url.Scheme is not ("http" or "https"))
        {
            errors.Add($"WEBHOOK_URL must be an absolute http or https URL; got '{WebhookUrl.Redact(options.Url)}'.");
        }

        if (string.IsNullOrWhiteSpace(options.Secret))
        {
            errors.Add("WEBHOOK_SECRET is required and must not be empty or only spaces.");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            errors.Add("WEBHOOK_TIMEOUT must be greater than 0 seconds.");
        }
        else if (options.Timeout < MinTimeout)
        {
            errors.Add($"WEBHOOK_TIMEOUT must be at least {MinTimeout.TotalSeconds:0.###} seconds.");
        }

        if (options.MaxHold < TimeSpan.FromSeconds(1) || options.MaxHold > MaxHoldTime)
        {
            errors.Add($"WEBHOOK_MAX_HOLD must be between 1 and {MaxHoldTime.TotalSeconds:0} seconds "
                + "(RabbitMQ closes the channel of a message unacknowledged for 30 minutes).");
        }
        else if (options.Timeout >= options.MaxHold)
        {
            errors.Add("WEBHOOK_MAX_HOLD must be longer than WEBHOOK_TIMEOUT: one attempt has to fit in the hold.");
        }

        if (options.MaxRetries is < 0 or > 20)
        {
            errors.Add($"WEBHOOK_MAX_RETRIES must be between 0 and 20; got {options.MaxRetries}.");
        }

        if (options.RetryDelay < TimeSpan.Zero)
        {
            errors.Add("WEBHOOK_RETRY_DELAY must not be negative.");
        }

        if (options.CircuitBreakerFailureThreshold < 1)
        {
            errors.Add($"WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD must be at least 1; got {options.CircuitBreakerFailureThreshold}.");
        }

        if (options.CircuitBreakerRecoveryTime <= TimeSpan.Zero || options.CircuitBreakerRecoveryTime > MaxHoldTime)
        {
            errors.Add($"WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME must be more than 0 and at most {MaxHoldTime.TotalSeconds:0} seconds.");
        }

        if (options.RotationSecrets.Any(string.IsNullOrEmpty) || options.RotationSecrets.Count > 7)
        {
            errors.Add("WEBHOOK_ROTATION_SECRETS must be at most 7 non-empty comma-separated secrets.");
        }

        if (options.Concurrency is < 1 or > 1000)
        {
            errors.Add($"WEBHOOK_CONCURRENCY must be between 1 and 1000; got {options.Concurrency}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
