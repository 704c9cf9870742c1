using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// The last step of building a named endpoint's <see cref="HokusaiWebhookOptions"/> (see <see cref="WebhookOptionsSetup"/>):
/// its own section, <c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c>, over what it inherited from the default endpoint's
/// configuration and the application's code. Its URL, filter and event types are its own, never inherited. A name that cannot
/// make a queue name, or a key that is not an endpoint setting (a typo would otherwise leave an inherited value in
/// use silently), is an error naming it.
/// </summary>
internal sealed class WebhookEndpointOptionsSetup(IConfiguration configuration, HokusaiSettingNames names, SettingsReports<HokusaiWebhookOptions> reports)
    : IConfigureNamedOptions<HokusaiWebhookOptions>
{
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
        nameof(HokusaiWebhookOptions.EventTypes),
        // SecretOrFile's file forms: Secret and RotationSecrets from files.
        nameof(HokusaiWebhookOptions.Secret) + SettingsBinder.FileSuffix,
        nameof(HokusaiWebhookOptions.RotationSecrets) + SettingsBinder.FileSuffix,
    };

    public void Configure(HokusaiWebhookOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, HokusaiWebhookOptions options)
    {
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        var section = configuration.GetSection(WebhookEndpointNames.SectionOf(name!));
        var report = reports.Of(name);
        var read = new SettingsBinder(section, names, report);
        CheckName(section, name!, read);

        // Never inherited, whatever the code set for every endpoint.
        options.Url = null;
        options.Filter = new WebhookFilter();
        options.EventTypes = [PipelineEvent.ModelRegisteredType];
        report.Forget(nameof(options.Url));
        report.Forget(nameof(options.Filter));
        report.Forget(nameof(options.EventTypes));
        WebhookOptionsSetup.ReadUrl(read, options);
        WebhookOptionsSetup.ReadFilter(section.GetSection(nameof(options.Filter)), options, read);
        WebhookOptionsSetup.ReadEventTypes(section.GetSection(nameof(options.EventTypes)), options, read);
        WebhookOptionsSetup.ReadShared(read, options);
    }

    private void CheckName(IConfigurationSection section, string name, SettingsBinder read)
    {
        if (!WebhookEndpointNames.IsValid(name))
        {
            read.Fail("Name", $"{names.Of(section.Path)} is not a valid endpoint name: use 1 to 40 lowercase letters, "
                + $"digits and '-', starting with a letter or digit, and not '{WebhookEndpointNames.Default}' (it names the queue "
                + $"{HokusaiQueues.WebhookDelivery}-<name>).");
        }

        var unknown = section.GetChildren().Select(c => c.Key).Where(k => !Keys.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            read.Fail("Keys", $"{read.NameOf(unknown[0])} is not a setting of an endpoint; use "
                + string.Join(", ", Keys.Order(StringComparer.Ordinal)) + ".");
        }
    }
}
