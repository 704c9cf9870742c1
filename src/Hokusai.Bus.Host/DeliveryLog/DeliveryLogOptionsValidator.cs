using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>Stops the host at start-up when a <c>DELIVERY_LOG*</c> setting is bad, naming it; never shows the token.</summary>
internal sealed class DeliveryLogOptionsValidator(HokusaiSettingNames names, SettingsReports<DeliveryLogOptions> reports)
    : IValidateOptions<DeliveryLogOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryLogOptions options)
    {
        var report = reports.Of(name);
        var errors = new List<string>(report.Errors.Values);
        string NameOf(string member) => report.NameOf(member, $"{DeliveryLogOptions.SectionName}:{member}", names);
        void Fail(string member, string message)
        {
            if (!report.Errors.ContainsKey(member))
            {
                errors.Add($"{NameOf(member)} {message}");
            }
        }

        if (options.MaxAge < TimeSpan.FromMinutes(1))
        {
            Fail(nameof(options.MaxAge), "must be at least a minute (0.001 days).");
        }

        if (options.MaxBytes < 1L << 20)
        {
            Fail(nameof(options.MaxBytes), "must be at least 1048576 (1 MiB).");
        }

        if (options.Token is { } token && token.Trim().Length < 16)
        {
            Fail(nameof(options.Token), "must be at least 16 characters (it guards the delivery log).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
