using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Binds <see cref="HokusaiRedisOptions"/> from configuration section <c>Hokusai:Redis</c> with the plugin's one binder;
/// values that do not parse are left for <see cref="HokusaiRedisOptionsValidator"/> to report.
/// </summary>
internal sealed class RedisOptionsSetup(IConfiguration configuration, HokusaiSettingNames names, SettingsReports<HokusaiRedisOptions> reports)
    : IConfigureOptions<HokusaiRedisOptions>
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
        var read = new SettingsBinder(section, names, reports.Begin(Options.DefaultName));
        read.String(nameof(options.Url), v => options.Url = v);
        read.SecretOrFile(nameof(options.Password), v => options.Password = v);
        read.String(nameof(options.Channel), v => options.Channel = v);
        read.Flag(nameof(options.ListEnabled), v => options.ListEnabled = v);
        read.String(nameof(options.ListKey), v => options.ListKey = v);
        read.Integer(nameof(options.MaxRetries), v => options.MaxRetries = v);
        read.Seconds(nameof(options.RetryDelay), v => options.RetryDelay = v);
        read.Integer(nameof(options.Concurrency), v => options.Concurrency = v);
        read.Integer(nameof(options.DedupTtl), v => options.DedupTtl = TimeSpan.FromSeconds(v));
        read.Choice(nameof(options.MessageFormat), Formats, "'legacy', 'webhook' or 'token-service'", v => options.MessageFormat = v);
    }
}
