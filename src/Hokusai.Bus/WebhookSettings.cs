using System.Globalization;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Reads <see cref="HokusaiWebhookOptions"/> from configuration: the guide's variable names first
/// (<c>WEBHOOK_URL</c> ...), then <c>Hokusai:Webhook:*</c>. A value that does not parse is recorded, with the
/// variable's name and never the value of the secret, for <see cref="HokusaiWebhookOptionsValidator"/>.
/// </summary>
internal sealed class WebhookSettings(IConfiguration configuration) : IConfigureOptions<HokusaiWebhookOptions>
{
    public void Configure(HokusaiWebhookOptions options)
    {
        if (Read("WEBHOOK_URL", "Url") is { } url)
        {
            if (Uri.TryCreate(url.Value, UriKind.Absolute, out var uri))
            {
                options.Url = uri;
            }
            else
            {
                options.ReadErrors.Add($"{url.Name} must be an absolute http or https URL; got '{url.Value}'.");
            }
        }

        if (Read("WEBHOOK_SECRET", "Secret") is { } secret)
        {
            options.Secret = secret.Value;
        }

        Seconds(options, "WEBHOOK_TIMEOUT", "Timeout", v => options.Timeout = v);
        Seconds(options, "WEBHOOK_RETRY_DELAY", "RetryDelay", v => options.RetryDelay = v);
        Seconds(options, "WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "CircuitBreakerRecoveryTime",
            v => options.CircuitBreakerRecoveryTime = v);
        Integer(options, "WEBHOOK_MAX_RETRIES", "MaxRetries", v => options.MaxRetries = v);
        Integer(options, "WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "CircuitBreakerFailureThreshold",
            v => options.CircuitBreakerFailureThreshold = v);
        Integer(options, "WEBHOOK_CONCURRENCY", "Concurrency", v => options.Concurrency = v);

        if (Read("ENABLE_REDIS_FALLBACK", "EnableRedisFallback") is { } fallback)
        {
            if (TryParseFlag(fallback.Value, out var enabled))
            {
                options.EnableRedisFallback = enabled;
            }
            else
            {
                options.ReadErrors.Add($"{fallback.Name} must be true or false; got '{fallback.Value}'.");
            }
        }

        if (Read("WEBHOOK_SIGNATURE_FORMAT", "SignatureFormat") is { } format)
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

    /// <summary>True/false the way shells and Python programs write them.</summary>
    internal static bool TryParseFlag(string value, out bool flag)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                flag = true;
                return true;
            case "false" or "0" or "no" or "off" or "":
                flag = false;
                return true;
            default:
                flag = false;
                return false;
        }
    }

    private void Seconds(HokusaiWebhookOptions options, string variable, string key, Action<TimeSpan> set)
    {
        if (Read(variable, key) is not { } setting)
        {
            return;
        }

        if (double.TryParse(setting.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && double.IsFinite(seconds) && seconds is >= 0 and <= 86_400)
        {
            set(TimeSpan.FromSeconds(seconds));
        }
        else
        {
            options.ReadErrors.Add($"{setting.Name} must be a number of seconds (e.g. 2 or 0.5); got '{setting.Value}'.");
        }
    }

    private void Integer(HokusaiWebhookOptions options, string variable, string key, Action<int> set)
    {
        if (Read(variable, key) is not { } setting)
        {
            return;
        }

        if (int.TryParse(setting.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            options.ReadErrors.Add($"{setting.Name} must be a whole number; got '{setting.Value}'.");
        }
    }

    /// <summary>The guide's variable if set, else <c>Hokusai:Webhook:{key}</c>; with the name to report it by.</summary>
    private Setting? Read(string variable, string key)
    {
        if (configuration[variable] is { } value)
        {
            return new Setting(variable, value);
        }

        var path = $"{HokusaiWebhookOptions.SectionName}:{key}";
        return configuration[path] is { } sectionValue
            ? new Setting($"Hokusai__Webhook__{key}", sectionValue)
            : null;
    }

    private sealed record Setting(string Name, string Value);
}
