using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>Binds <see cref="IngestOptions"/> from configuration section <c>Hokusai:Ingest</c> with the plugins' one binder.</summary>
internal sealed class IngestOptionsSetup(IConfiguration configuration, HokusaiSettingNames names, SettingsReports<IngestOptions> reports)
    : IConfigureOptions<IngestOptions>
{
    public void Configure(IngestOptions options)
    {
        var read = new SettingsBinder(configuration.GetSection(IngestOptions.SectionName), names, reports.Begin(Options.DefaultName));
        read.SecretOrFile(nameof(options.Secret), v => options.Secret = v);
        read.SecretList(nameof(options.RotationSecrets), v => options.RotationSecrets = v);
        read.Integer(nameof(options.MaxBodyBytes), v => options.MaxBodyBytes = v, MaxBodyBytesExpected);
        read.Seconds(nameof(options.BodyTimeout), v => options.BodyTimeout = v);
    }

    /// <summary>What <c>INGEST_MAX_BODY_BYTES</c> must be, in its messages.</summary>
    internal static readonly string MaxBodyBytesExpected = $"a whole number of bytes from 1024 to {IngestOptions.MaxBodyBytesLimit}";
}
