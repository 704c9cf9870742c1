using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Reads <see cref="HokusaiWebhookOptions"/> from configuration: the guide's variable names first
/// (<c>WEBHOOK_URL</c> ...), then <c>Hokusai:Webhook:*</c>. Values that do not parse are left for
/// <see cref="HokusaiWebhookOptionsValidator"/> to report.
/// </summary>
internal sealed class WebhookSettings(IConfiguration configuration) : IConfigureOptions<HokusaiWebhookOptions>
{
    public void Configure(HokusaiWebhookOptions options)
    {
        var read = new SettingReader(configuration, HokusaiWebhookOptions.SectionName, options.ReadErrors);

        if (read.Read("WEBHOOK_URL", "Url") is { } url)
        {
            if (Uri.TryCreate(url.Value, UriKind.Absolute, out var uri))
            {
                options.Url = uri;
            }
            else
            {
                // Shown without user info and query: a URL that does not parse may still carry a token there.
                options.ReadErrors.Add(
                    $"{url.Name} must be an absolute http or https URL; got '{WebhookUrl.RedactText(url.Value)}'.");
            }
        }

        read.String("WEBHOOK_SECRET", "Secret", v => options.Secret = v);
        read.Seconds("WEBHOOK_TIMEOUT", "Timeout", v => options.Timeout = v);
        read.Seconds("WEBHOOK_RETRY_DELAY", "RetryDelay", v => options.RetryDelay = v);
        read.Seconds("WEBHOOK_MAX_HOLD", "MaxHold", v => options.MaxHold = v);
        read.Seconds("WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "CircuitBreakerRecoveryTime",
            v => options.CircuitBreakerRecoveryTime = v);
        read.Integer("WEBHOOK_MAX_RETRIES", "MaxRetries", v => options.MaxRetries = v);
        read.Integer("WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "CircuitBreakerFailureThreshold",
            v => options.CircuitBreakerFailureThreshold = v);
        read.Integer("WEBHOOK_CONCURRENCY", "Concurrency", v => options.Concurrency = v);
        read.Flag("ENABLE_REDIS_FALLBACK", "EnableRedisFallback", v => options.EnableRedisFallback = v);
        read.Flag("WEBHOOK_STANDARD_SIGNATURES", "StandardSignatures", v => options.StandardSignatures = v);
        read.String("WEBHOOK_ROTATION_SECRETS", "RotationSecrets", v => options.RotationSecrets =
            v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        if (read.Read("WEBHOOK_SIGNATURE_FORMAT", "SignatureFormat") is { } format)
        {
            switch (format.Value.Trim().ToLowerInvariant())
            {
                case "hex":
                    options.SignatureFormat = SignatureFormat.Hex;
                    break;
                case "sha256" or "sha256=" or "sha256prefixed":
                    options.SignatureFormat = SignatureFormat.Sha256Prefixed;
                    break;
                default:
                    options.ReadErrors.Add($"{format.Name} must be 'hex' or 'sha256'; got '{format.Value}'.");
                    break;
            }
        }
    }

    /// <summary>Whether configuration turns the Redis fallback on; decided when the bus is configured.</summary>
    public static bool RedisFallbackEnabled(IConfiguration configuration)
    {
        var enabled = false;
        new SettingReader(configuration, HokusaiWebhookOptions.SectionName, [])
            .Flag("ENABLE_REDIS_FALLBACK", "EnableRedisFallback", v => enabled = v);
        return enabled;
    }
}
