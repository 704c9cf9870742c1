using StackExchange.Redis;

namespace Hokusai.Bus;

/// <summary>The Redis address setting (<c>REDIS_URL</c>, <c>Hokusai:Redis:Url</c>) as StackExchange.Redis options.</summary>
internal static class RedisUrl
{
    /// <summary>What <see cref="Parse"/> accepts, for error messages.</summary>
    internal const string Shape = "must look like redis://host:6379/0 or host:6379.";

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
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {Shape}");
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
            throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {Shape}");
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(url);
            }
            catch (ArgumentException)
            {
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {Shape}");
            }

            if (options.EndPoints.Count == 0)
            {
                throw new FormatException($"{HokusaiRedisOptions.SectionName}:Url {Shape}");
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
