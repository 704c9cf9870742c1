using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Binds <see cref="HokusaiWebhookOptions"/> from configuration section <c>Hokusai:Webhook</c> (the default endpoint) or
/// <c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c> (a named one, inheriting every key it does not set from the default).
/// Values that do not parse are left for <see cref="HokusaiWebhookOptionsValidator"/> to report.
/// </summary>
internal sealed class WebhookSettings(IConfiguration configuration) : IConfigureNamedOptions<HokusaiWebhookOptions>
{
    private static readonly Dictionary<string, SignatureFormat> Formats = new()
    {
        ["hex"] = SignatureFormat.Hex,
        ["sha256"] = SignatureFormat.Sha256Prefixed,
        ["sha256="] = SignatureFormat.Sha256Prefixed,
        ["sha256prefixed"] = SignatureFormat.Sha256Prefixed,
    };

    public void Configure(HokusaiWebhookOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, HokusaiWebhookOptions options)
    {
        var defaults = configuration.GetSection(HokusaiWebhookOptions.SectionName);
        var read = string.IsNullOrEmpty(name) || name == WebhookEndpointNames.Default
            ? new SettingReader(defaults, defaults.Path, null, null, options.ReadErrors)
            : Named(defaults, name, options);

        if (read.Read(nameof(options.Url)) is { } url)
        {
            if (Uri.TryCreate(url.Value, UriKind.Absolute, out var uri))
            {
                options.Url = uri;
            }
            else
            {
                // Shown without user info and query: a URL that does not parse may still carry a token there.
                options.ReadErrors[nameof(options.Url)] =
                    $"{url.Path} must be an absolute http or https URL; got '{WebhookUrl.RedactText(url.Value)}'.";
            }
        }

        read.String(nameof(options.Secret), v => options.Secret = v);
        read.Seconds(nameof(options.Timeout), v => options.Timeout = v);
        read.Seconds(nameof(options.RetryDelay), v => options.RetryDelay = v);
        read.Seconds(nameof(options.MaxHold), v => options.MaxHold = v);
        read.Seconds(nameof(options.CircuitBreakerRecoveryTime), v => options.CircuitBreakerRecoveryTime = v);
        read.Integer(nameof(options.MaxRetries), v => options.MaxRetries = v);
        read.Integer(nameof(options.CircuitBreakerFailureThreshold), v => options.CircuitBreakerFailureThreshold = v);
        read.Integer(nameof(options.Concurrency), v => options.Concurrency = v);
        read.Flag(nameof(options.StandardSignatures), v => options.StandardSignatures = v);
        read.String(nameof(options.RotationSecrets), v => options.RotationSecrets =
            v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        read.Choice(nameof(options.SignatureFormat), Formats, "'hex' or 'sha256'", v => options.SignatureFormat = v);
    }

    private static SettingReader Named(IConfigurationSection defaults, string name, HokusaiWebhookOptions options)
    {
        var section = defaults.GetSection($"{WebhookEndpointNames.SectionKey}:{name}");
        options.SectionPath = section.Path;
        return new SettingReader(section, section.Path, defaults, defaults.Path, options.ReadErrors);
    }
}
