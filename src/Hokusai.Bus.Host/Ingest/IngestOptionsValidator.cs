using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>Stops the host at start-up when an <c>INGEST_*</c> setting is bad, naming it; never shows a secret.</summary>
internal sealed class IngestOptionsValidator(HokusaiSettingNames names, SettingsReports<IngestOptions> reports) : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var report = reports.Of(name);
        var errors = new List<string>(report.Errors.Values);
        string NameOf(string member) => report.NameOf(member, $"{IngestOptions.SectionName}:{member}", names);
        void Fail(string member, string message)
        {
            if (!report.Errors.ContainsKey(member))
            {
                errors.Add($"{NameOf(member)} {message}");
            }
        }

        if (options.Secret is { } secret && string.IsNullOrWhiteSpace(secret))
        {
            Fail(nameof(options.Secret), "must not be empty or only spaces.");
        }

        if (options.RotationSecrets.Count > 0 && options.Secret is null)
        {
            Fail(nameof(options.RotationSecrets), $"is set without {NameOf(nameof(options.Secret))}; set the current secret too.");
        }

        if (options.MaxBodyBytes is < 1024 or > IngestOptions.MaxBodyBytesLimit)
        {
            Fail(nameof(options.MaxBodyBytes), $"must be {IngestOptionsSetup.MaxBodyBytesExpected}; got '{options.MaxBodyBytes}'.");
        }

        if (options.BodyTimeout < TimeSpan.FromSeconds(0.1) || options.BodyTimeout > TimeSpan.FromMinutes(5))
        {
            Fail(nameof(options.BodyTimeout), "must be from 0.1 to 300 seconds.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
