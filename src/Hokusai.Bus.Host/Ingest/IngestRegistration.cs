namespace Hokusai.Bus.Host.Ingest;

/// <summary>Adds <c>POST /ingest</c> to the host when an ingest secret is set; without one the path answers 404.</summary>
internal static class IngestRegistration
{
    public static void AddHokusaiIngest(this IServiceCollection services, IngestOptions options)
    {
        if (options.Enabled)
        {
            services.AddSingleton(options);
            services.AddSingleton<IngestMetrics>();
            services.AddSingleton<IngestEndpoint>();
        }
    }

    public static void MapHokusaiIngest(this WebApplication app)
    {
        if (app.Services.GetService<IngestEndpoint>() is { } ingest)
        {
            app.MapPost(IngestEndpoint.Path, ingest.HandleAsync);
        }
    }
}
