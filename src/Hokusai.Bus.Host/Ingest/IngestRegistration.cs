using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>Adds <c>POST /ingest</c> to the host; it is mapped only when an ingest secret is set, else the path answers 404.</summary>
internal static class IngestRegistration
{
    public static void AddHokusaiIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().ValidateOnStart();
        services.TryAddSingleton<SettingsReports<IngestOptions>>();
        services.AddSingleton<IConfigureOptions<IngestOptions>, IngestOptionsSetup>();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        services.AddSingleton<IngestMetrics>();
        // The nonces of DeltaOne-signed POSTs seen in the last 10 minutes, in this host: a replay is refused (409).
        services.TryAddSingleton(sp => new Hokusai.Bus.Receiver.NonceMemory(time: sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IngestPublisher>();
        services.AddSingleton<IngestEndpoint>();
    }

    public static void MapHokusaiIngest(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<IngestOptions>>().Value.Enabled)
        {
            var ingest = app.Services.GetRequiredService<IngestEndpoint>();
            app.MapPost(IngestEndpoint.Path, ingest.HandleAsync);
        }
    }
}
