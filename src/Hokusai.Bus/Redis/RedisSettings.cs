using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>Reads <see cref="HokusaiRedisOptions"/> from the <c>REDIS_*</c> variables or <c>Hokusai:Redis:*</c>.</summary>
internal sealed class RedisSettings(IConfiguration configuration) : IConfigureOptions<HokusaiRedisOptions>
{
    public void Configure(HokusaiRedisOptions options)
    {
        var read = new SettingReader(configuration, HokusaiRedisOptions.SectionName, options.ReadErrors);
        read.String("REDIS_URL", "Url", v => options.Url = v);
        read.String("REDIS_CHANNEL", "Channel", v => options.Channel = v);
        read.Flag("REDIS_LIST_ENABLED", "ListEnabled", v => options.ListEnabled = v);
        read.String("REDIS_LIST_KEY", "ListKey", v => options.ListKey = v);
        read.Integer("REDIS_MAX_RETRIES", "MaxRetries", v => options.MaxRetries = v);
        read.Seconds("REDIS_RETRY_DELAY", "RetryDelay", v => options.RetryDelay = v);
        read.Integer("REDIS_CONCURRENCY", "Concurrency", v => options.Concurrency = v);
        read.Integer("REDIS_DEDUP_TTL", "DedupTtl", v => options.DedupTtl = TimeSpan.FromSeconds(v));
        if (read.Read("REDIS_MESSAGE_FORMAT", "MessageFormat") is { } format)
        {
            switch (format.Value.Trim().ToLowerInvariant())
            {
                case "legacy":
                    options.MessageFormat = RedisMessageFormat.Legacy;
                    break;
                case "webhook":
                    options.MessageFormat = RedisMessageFormat.Webhook;
                    break;
                default:
                    options.ReadErrors.Add($"{format.Name} must be 'legacy' or 'webhook'; got '{Contracts.SafeText.Of(format.Value, 40)}'.");
                    break;
            }
        }
    }

    /// <summary>
    /// StackExchange.Redis options from <c>redis://[user:password@]host[:port][/db]</c> (the Python pipeline's form) or
    /// StackExchange's own <c>host:port,password=...</c>. Never connects fail-fast: it reconnects by itself.
    /// </summary>
    /// <exception cref="FormatException">Not a Redis address; the message never contains the password.</exception>
    public static ConfigurationOptions Parse(string url)
    {
        ConfigurationOptions options;
        if (url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            {
                throw new FormatException("REDIS_URL must look like redis://host:6379/0 or host:6379.");
            }

            options = new ConfigurationOptions { Ssl = uri.Scheme == "rediss" };
            options.EndPoints.Add(uri.Host, uri.IsDefaultPort ? 6379 : uri.Port);
            if (uri.UserInfo.Split(':', 2) is [var user, var password])
            {
                options.User = string.IsNullOrEmpty(user) ? null : Uri.UnescapeDataString(user);
                options.Password = Uri.UnescapeDataString(password);
            }

            if (int.TryParse(uri.AbsolutePath.Trim('/'), out var database))
            {
                options.DefaultDatabase = database;
            }
        }
        else if (url.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException("REDIS_URL must look like redis://host:6379/0 or host:6379.");
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(url);
            }
            catch (ArgumentException)
            {
                throw new FormatException("REDIS_URL must look like redis://host:6379/0 or host:6379.");
            }

            if (options.EndPoints.Count == 0)
            {
                throw new FormatException("REDIS_URL must look like redis://host:6379/0 or host:6379.");
            }
        }

        options.AbortOnConnectFail = false;
        // While disconnected, fail at once and let the endpoint's retries wait, rather than queueing commands.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 5_000;
        options.AsyncTimeout = 5_000;
        options.ClientName = "Hokusai.Bus";
        return options;
    }
}

/// <summary>Stops the host at start-up when a Redis setting is bad, naming the variable.</summary>
internal sealed class HokusaiRedisOptionsValidator : IValidateOptions<HokusaiRedisOptions>
{
    public ValidateOptionsResult Validate(string? name, HokusaiRedisOptions options)
    {
        var errors = new List<string>(options.ReadErrors);
        try
        {
            RedisSettings.Parse(options.Url);
        }
        catch (FormatException e)
        {
            errors.Add(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or InvalidOperationException)
        {
            errors.Add("REDIS_URL must look like redis://host:6379/0 or host:6379.");
        }

        if (options.DedupTtl < TimeSpan.FromSeconds(1) || options.DedupTtl > TimeSpan.FromDays(365))
        {
            errors.Add("REDIS_DEDUP_TTL must be between 1 and 31536000 seconds (a year).");
        }

        if (options.RetryDelay < TimeSpan.Zero)
        {
            errors.Add("REDIS_RETRY_DELAY must not be negative.");
        }

        if (string.IsNullOrWhiteSpace(options.Channel))
        {
            errors.Add("REDIS_CHANNEL must not be empty.");
        }

        if (options.ListEnabled && string.IsNullOrWhiteSpace(options.ListKey))
        {
            errors.Add("REDIS_LIST_KEY must not be empty while REDIS_LIST_ENABLED is true.");
        }

        if (options.MaxRetries is < 0 or > 50)
        {
            errors.Add($"REDIS_MAX_RETRIES must be between 0 and 50; got {options.MaxRetries}.");
        }

        if (options.Concurrency is < 1 or > 1000)
        {
            errors.Add($"REDIS_CONCURRENCY must be between 1 and 1000; got {options.Concurrency}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
