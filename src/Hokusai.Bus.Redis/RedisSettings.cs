using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>Binds <see cref="HokusaiRedisOptions"/> from configuration section <c>Hokusai:Redis</c>.</summary>
internal sealed class RedisSettings(IConfiguration configuration) : IConfigureOptions<HokusaiRedisOptions>
{
    private static readonly Dictionary<string, RedisMessageFormat> Formats = new()
    {
        ["legacy"] = RedisMessageFormat.Legacy,
        ["webhook"] = RedisMessageFormat.Webhook,
        ["token-service"] = RedisMessageFormat.TokenService,
    };

    public void Configure(HokusaiRedisOptions options)
    {
        var section = configuration.GetSection(HokusaiRedisOptions.SectionName);
        var read = new SettingReader(section, section.Path, null, null, options.ReadErrors);
        read.String(nameof(options.Url), v => options.Url = v);
        read.String(nameof(options.Password), v => options.Password = v);
        read.String(nameof(options.Channel), v => options.Channel = v);
        read.Flag(nameof(options.ListEnabled), v => options.ListEnabled = v);
        read.String(nameof(options.ListKey), v => options.ListKey = v);
        read.Integer(nameof(options.MaxRetries), v => options.MaxRetries = v);
        read.Seconds(nameof(options.RetryDelay), v => options.RetryDelay = v);
        read.Integer(nameof(options.Concurrency), v => options.Concurrency = v);
        read.Integer(nameof(options.DedupTtl), v => options.DedupTtl = TimeSpan.FromSeconds(v));
        read.Choice(nameof(options.MessageFormat), Formats, "'legacy', 'webhook' or 'token-service'", v => options.MessageFormat = v);
    }

    /// <summary>What <see cref="Parse"/> accepts, for error messages.</summary>
    internal const string UrlShape = "must look like redis://host:6379/0 or host:6379.";

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
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {UrlShape}");
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
            throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {UrlShape}");
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(url);
            }
            catch (ArgumentException)
            {
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {UrlShape}");
            }

            if (options.EndPoints.Count == 0)
            {
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {UrlShape}");
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
