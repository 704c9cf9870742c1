using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>Binds <see cref="DeliveryLogOptions"/> from <c>Hokusai:DeliveryLog</c> with the plugins' one binder.</summary>
internal sealed class DeliveryLogOptionsSetup(IConfiguration configuration, HokusaiSettingNames names, SettingsReports<DeliveryLogOptions> reports)
    : IConfigureOptions<DeliveryLogOptions>
{
    public void Configure(DeliveryLogOptions options)
    {
        var read = new SettingsBinder(configuration.GetSection(DeliveryLogOptions.SectionName), names, reports.Begin(Options.DefaultName));
        read.Flag(nameof(options.Enabled), v => options.Enabled = v);
        // In days, since it is kept for days (the binder's seconds stop at a day).
        read.String(nameof(options.MaxAge), v =>
        {
            if (SettingValues.TryParseSeconds(v, out var days) && days is > 0 and <= 3650)
            {
                options.MaxAge = TimeSpan.FromDays(days);
            }
            else
            {
                read.Fail(nameof(options.MaxAge), $"{read.NameOf(nameof(options.MaxAge))} must be a number of days from 0.001 to 3650 (e.g. 7 or 0.5); "
                    + $"got '{Contracts.SafeText.Of(v, 40)}'.");
            }
        });
        read.String(nameof(options.MaxBytes), v =>
        {
            if (long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes))
            {
                options.MaxBytes = bytes;
            }
            else
            {
                read.Fail(nameof(options.MaxBytes), $"{read.NameOf(nameof(options.MaxBytes))} must be a whole number of bytes; got '{Contracts.SafeText.Of(v, 40)}'.");
            }
        });
        read.SecretOrFile(nameof(options.Token), v => options.Token = v);
    }
}
