using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>Adds the delivery log to the host (on unless <c>DELIVERY_LOG=false</c>) and maps <c>GET /deliveries</c> when a token is set.</summary>
internal static class DeliveryLogRegistration
{
    public static void AddHokusaiDeliveryLog(this IServiceCollection services)
    {
        services.AddOptions<DeliveryLogOptions>().ValidateOnStart();
        services.TryAddSingleton<SettingsReports<DeliveryLogOptions>>();
        services.AddSingleton<IConfigureOptions<DeliveryLogOptions>, DeliveryLogOptionsSetup>();
        services.AddSingleton<IValidateOptions<DeliveryLogOptions>, DeliveryLogOptionsValidator>();
        services.TryAddSingleton<DeliveryLogRecorder>();
        // A listener of the plugin's telemetry channel, and a hosted service that writes what is buffered as the host stops.
        services.AddSingleton<IWebhookDeliveryListener>(sp => sp.GetRequiredService<DeliveryLogRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryLogRecorder>());
        services.TryAddSingleton<DeliveriesEndpoint>();
    }

    public static void MapHokusaiDeliveries(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<DeliveryLogOptions>>().Value is { Enabled: true, Token.Length: > 0 })
        {
            app.MapGet(DeliveriesEndpoint.Path, app.Services.GetRequiredService<DeliveriesEndpoint>().HandleAsync);
        }
    }
}
