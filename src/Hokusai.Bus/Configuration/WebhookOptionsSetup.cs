using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Binds <see cref="HokusaiWebhookOptions"/> from configuration section <c>Hokusai:Webhook</c> (the default endpoint) or
/// <c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c> (a named one, inheriting every key it does not set from the default).
/// Values that do not parse are left for <see cref="HokusaiWebhookOptionsValidator"/> to report, already worded with the
/// setting's name (<see cref="HokusaiSettingNames"/>).
/// </summary>
internal sealed class WebhookOptionsSetup(IConfiguration configuration, HokusaiSettingNames names)
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
        var defaults = configuration.GetSection(HokusaiWebhookOptions.SectionName);
        var isDefault = string.IsNullOrEmpty(name);
        var own = isDefault ? defaults : defaults.GetSection($"{WebhookEndpointNames.SectionKey}:{name}");
        var read = new SettingsBinder(own, isDefault ? null : defaults, names, options.ReadErrors);
        if (!isDefault)
        {
            options.SectionPath = own.Path;
            CheckNamed(own, name!, read);
        }

        ReadFilter(own.GetSection(nameof(options.Filter)), options, read);

        // A named endpoint's URL is its own: inheriting the default's would post every registration there twice.
        if (own[nameof(options.Url)] is { } url)
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
        }

        read.SecretOrFile(nameof(options.Secret), v => options.Secret = v);
        read.Seconds(nameof(options.Timeout), v => options.Timeout = v);
        read.Seconds(nameof(options.RetryDelay), v => options.RetryDelay = v);
        read.Seconds(nameof(options.MaxHold), v => (options.MaxHold, options.MaxHoldConfigured) = (v, true));
        read.Seconds(nameof(options.CircuitBreakerRecoveryTime), v => options.CircuitBreakerRecoveryTime = v);
        read.Integer(nameof(options.MaxRetries), v => options.MaxRetries = v);
        read.Integer(nameof(options.CircuitBreakerFailureThreshold), v => options.CircuitBreakerFailureThreshold = v);
        read.Integer(nameof(options.Concurrency), v => options.Concurrency = v);
        read.Flag(nameof(options.StandardSignatures), v => options.StandardSignatures = v);
        read.Flag(nameof(options.AllowHttp), v => options.AllowHttp = v);
        // Comma-separated, or (from a file) one per line.
        read.SecretOrFile(nameof(options.RotationSecrets), v => options.RotationSecrets =
            v.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        read.Choice(nameof(options.SignatureFormat), Formats, "'hex' or 'sha256'", v => options.SignatureFormat = v);
        read.Choice(nameof(options.PayloadFormat), PayloadFormats, "'guide' or 'mlflow'", v => options.PayloadFormat = v);
    }

    /// <summary>A named endpoint's own checks: its name makes a queue name, and a typo in a key must not pass silently.</summary>
    private void CheckNamed(IConfigurationSection section, string name, SettingsBinder read)
    {
        if (!WebhookEndpointNames.IsValid(name))
        {
            read.Fail("Name", $"{names.Of(section.Path)} is not a valid endpoint name: use 1 to 40 lowercase letters, "
                + $"digits and '-', starting with a letter or digit, and not '{WebhookEndpointNames.Default}' (it names the queue "
                + $"{HokusaiQueues.WebhookDelivery}-<name>).");
        }

        // A typo (Ulr, Secrte) would otherwise be an inherited value used silently.
        var unknown = section.GetChildren().Select(c => c.Key).Where(k => !Keys.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            read.Fail("Keys", $"{read.NameOf(unknown[0])} is not a setting of an endpoint; use "
                + string.Join(", ", Keys.Order(StringComparer.Ordinal)) + ".");
        }
    }

    private void ReadFilter(IConfigurationSection section, HokusaiWebhookOptions options, SettingsBinder read)
    {
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
                        read.Fail(nameof(options.Filter), $"{names.Of(child.Path)} must list at least one token symbol.");
                    }

                    filter.TokenSymbols = symbols;
                    break;
                case "tags":
                    var tags = child.GetChildren().Where(t => t.Value is not null).ToDictionary(t => t.Key, t => t.Value!, StringComparer.Ordinal);
                    if (tags.Count == 0)
                    {
                        read.Fail(nameof(options.Filter), $"{names.Of(child.Path)} must give at least one tag as Tags:<name>=<value>.");
                    }

                    filter.Tags = tags;
                    break;
                default:
                    read.Fail(nameof(options.Filter), $"{names.Of(child.Path)} is not a filter; use "
                        + $"{names.Of(section.Path + ":TokenSymbols")} or {names.Of(section.Path + ":Tags")}:<name>.");
                    break;
            }
        }

        options.Filter = filter;
    }

    /// <summary>The keys an endpoint's section may hold.</summary>
    private static readonly HashSet<string> Keys = new(StringComparer.OrdinalIgnoreCase)
    {
        nameof(HokusaiWebhookOptions.Url), nameof(HokusaiWebhookOptions.Secret), nameof(HokusaiWebhookOptions.Timeout),
        nameof(HokusaiWebhookOptions.AllowHttp),
        nameof(HokusaiWebhookOptions.RetryDelay), nameof(HokusaiWebhookOptions.MaxHold),
        nameof(HokusaiWebhookOptions.CircuitBreakerRecoveryTime), nameof(HokusaiWebhookOptions.MaxRetries),
        nameof(HokusaiWebhookOptions.CircuitBreakerFailureThreshold), nameof(HokusaiWebhookOptions.Concurrency),
        nameof(HokusaiWebhookOptions.StandardSignatures), nameof(HokusaiWebhookOptions.RotationSecrets),
        nameof(HokusaiWebhookOptions.SignatureFormat), nameof(HokusaiWebhookOptions.PayloadFormat), nameof(HokusaiWebhookOptions.Filter),
        // SecretOrFile's file forms: Secret and RotationSecrets from files.
        nameof(HokusaiWebhookOptions.Secret) + SettingsBinder.FileSuffix,
        nameof(HokusaiWebhookOptions.RotationSecrets) + SettingsBinder.FileSuffix,
    };
}
