using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>Stops the host at start-up when a Redis setting is bad; each message starts with the name of the setting to fix.</summary>
internal sealed class HokusaiRedisOptionsValidator(HokusaiSettingNames names, SettingsReports<HokusaiRedisOptions> reports)
    : IValidateOptions<HokusaiRedisOptions>
{
    public ValidateOptionsResult Validate(string? name, HokusaiRedisOptions options)
    {
        var report = reports.Of(name);
        var errors = new List<string>(report.Errors.Values);
        string NameOf(string member) => report.NameOf(member, $"{HokusaiRedisOptions.SectionName}:{member}", names);
        void Fail(string member, string message)
        {
            if (!report.Errors.ContainsKey(member))
            {
                errors.Add($"{NameOf(member)} {message}");
            }
        }

        try
        {
            RedisUrl.Parse(options.Url);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException or InvalidOperationException)
        {
            // Never e.Message: a URL that does not parse may still hold the password.
            Fail(nameof(options.Url), RedisUrl.Shape);
        }

        if (options.DedupTtl < TimeSpan.FromSeconds(1) || options.DedupTtl > TimeSpan.FromDays(365))
        {
            Fail(nameof(options.DedupTtl), "must be between 1 and 31536000 seconds (a year).");
        }

        if (options.RetryDelay < TimeSpan.Zero)
        {
            Fail(nameof(options.RetryDelay), "must not be negative.");
        }

        if (string.IsNullOrWhiteSpace(options.Channel))
        {
            Fail(nameof(options.Channel), "must not be empty.");
        }

        if (options.ListEnabled && string.IsNullOrWhiteSpace(options.ListKey))
        {
            Fail(nameof(options.ListKey), $"must not be empty while {NameOf(nameof(options.ListEnabled))} is true.");
        }

        if (options.MaxRetries is < 0 or > 50)
        {
            Fail(nameof(options.MaxRetries), $"must be between 0 and 50; got {options.MaxRetries}.");
        }

        if (options.Concurrency is < 1 or > 1000)
        {
            Fail(nameof(options.Concurrency), $"must be between 1 and 1000; got {options.Concurrency}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
