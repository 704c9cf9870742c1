using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// The first of three steps that build every endpoint's <see cref="HokusaiWebhookOptions"/>, in this order: this one
/// binds configuration section <c>Hokusai:Webhook</c> into every endpoint's options; then the application's
/// <c>AddHokusaiWebhooks(o =&gt; …)</c> runs on every endpoint's; then <see cref="WebhookEndpointOptionsSetup"/> binds a
/// named endpoint's own section over them. So a named endpoint inherits the default endpoint's resolved settings,
/// whether they come from configuration or code, except its URL and filter, which are its own. Values that do not parse
/// are left in <see cref="SettingsReports{TOptions}"/> for <see cref="HokusaiWebhookOptionsValidator"/> to report.
/// </summary>
internal sealed class WebhookOptionsSetup(IConfiguration configuration, HokusaiSettingNames names, SettingsReports<HokusaiWebhookOptions> reports)
    : IConfigureNamedOptions<HokusaiWebhookOptions>
{
    private static readonly Dictionary<string, SignatureFormat> Formats = new()
    {
        ["hex"] = SignatureFormat.Hex,
        ["sha256"] = SignatureFormat.Sha256Prefixed,
        ["sha256="] = SignatureFormat.Sha256Prefixed,
        ["sha256prefixed"] = SignatureFormat.Sha256Prefixed,
    };

    private static readonly Dictionary<string, WebhookPayloadFormat> PayloadFormats = new()
    {
        ["guide"] = WebhookPayloadFormat.Guide,
        ["mlflow"] = WebhookPayloadFormat.Mlflow,
    };

    public void Configure(HokusaiWebhookOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, HokusaiWebhookOptions options)
    {
        var report = reports.Begin(name);
        var read = new SettingsBinder(configuration.GetSection(HokusaiWebhookOptions.SectionName), names, report);
        if (string.IsNullOrEmpty(name))
        {
            // A named endpoint's URL and filter are its own (WebhookEndpointOptionsSetup): inheriting the default's URL
            // would post every registration there twice.
            ReadUrl(read, options);
            ReadFilter(configuration.GetSection($"{HokusaiWebhookOptions.SectionName}:{nameof(options.Filter)}"), options, read);
            ReadEventTypes(configuration.GetSection($"{HokusaiWebhookOptions.SectionName}:{nameof(options.EventTypes)}"), options, read);
        }

        ReadShared(read, options);
    }

    /// <summary>Every setting an endpoint may inherit.</summary>
    internal static void ReadShared(SettingsBinder read, HokusaiWebhookOptions options)
    {
        read.SecretOrFile(nameof(options.Secret), v => options.Secret = v);
        read.Seconds(nameof(options.Timeout), v => options.Timeout = v);
        read.Seconds(nameof(options.RetryDelay), v => options.RetryDelay = v);
        read.Seconds(nameof(options.MaxHold), v => options.MaxHold = v);
        read.Seconds(nameof(options.CircuitBreakerRecoveryTime), v => options.CircuitBreakerRecoveryTime = v);
        read.Integer(nameof(options.MaxRetries), v => options.MaxRetries = v);
        read.Integer(nameof(options.CircuitBreakerFailureThreshold), v => options.CircuitBreakerFailureThreshold = v);
        read.Integer(nameof(options.Concurrency), v => options.Concurrency = v);
        read.Flag(nameof(options.StandardSignatures), v => options.StandardSignatures = v);
        read.Flag(nameof(options.AllowHttp), v => options.AllowHttp = v);
        read.SecretList(nameof(options.RotationSecrets), v => options.RotationSecrets = v);
        read.Choice(nameof(options.SignatureFormat), Formats, "'hex' or 'sha256'", v => options.SignatureFormat = v);
        read.Choice(nameof(options.PayloadFormat), PayloadFormats, "'guide' or 'mlflow'", v => options.PayloadFormat = v);
    }

    /// <summary>The endpoint's own event types: a list (<c>EventTypes:0</c>, ...) or one comma-separated value.</summary>
    internal static void ReadEventTypes(IConfigurationSection section, HokusaiWebhookOptions options, SettingsBinder read)
    {
        if (!section.Exists())
        {
            return;
        }

        string[] types = section.Value is { } joined
            ? joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. section.GetChildren().Select(c => c.Value?.Trim()).OfType<string>().Where(v => v.Length > 0)];
        read.String(nameof(options.EventTypes), _ => { }); // records where the value came from, for messages
        options.EventTypes = types;
    }

    /// <summary>The endpoint's own URL: absolute, else an error that shows it without user info and query.</summary>
    internal static void ReadUrl(SettingsBinder read, HokusaiWebhookOptions options) =>
        read.String(nameof(options.Url), url =>
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                options.Url = uri;
            }
            else
            {
                // Shown without user info and query: a URL that does not parse may still carry a token there.
                read.Fail(nameof(options.Url),
                    $"{read.NameOf(nameof(options.Url))} must be an absolute http or https URL; got '{WebhookUrl.RedactText(url)}'.");
            }
        });

    /// <summary>The endpoint's own filter (<c>Filter:TokenSymbols</c>, <c>Filter:Tags:&lt;name&gt;</c>); every registration when unset.</summary>
    internal static void ReadFilter(IConfigurationSection section, HokusaiWebhookOptions options, SettingsBinder read)
    {
        if (!section.Exists())
        {
            return;
        }

        var filter = new WebhookFilter();
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToLowerInvariant())
            {
                case "tokensymbols":
                    // A list (TokenSymbols:0, TokenSymbols:1) or one comma-separated value, as environment variables give it.
                    var symbols = child.Value is { } joined
                        ? joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        : [.. child.GetChildren().Select(c => c.Value?.Trim()).OfType<string>().Where(v => v.Length > 0)];
                    if (symbols.Length == 0)
                    {
                        read.Fail(nameof(options.Filter), $"{read.NameOf($"{nameof(options.Filter)}:{child.Key}")} must list at least one token symbol.");
                    }

                    filter.TokenSymbols = symbols;
                    break;
                case "tags":
                    var tags = child.GetChildren().Where(t => t.Value is not null).ToDictionary(t => t.Key, t => t.Value!, StringComparer.Ordinal);
                    if (tags.Count == 0)
                    {
                        read.Fail(nameof(options.Filter), $"{read.NameOf($"{nameof(options.Filter)}:{child.Key}")} must give at least one tag as Tags:<name>=<value>.");
                    }

                    filter.Tags = tags;
                    break;
                default:
                    read.Fail(nameof(options.Filter), $"{read.NameOf($"{nameof(options.Filter)}:{child.Key}")} is not a filter; use "
                        + $"{read.NameOf(nameof(options.Filter) + ":TokenSymbols")} or {read.NameOf(nameof(options.Filter) + ":Tags")}:<name>.");
                    break;
            }
        }

        options.Filter = filter;
    }
}
