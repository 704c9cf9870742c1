using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Cli.Demo;

/// <summary>
/// The demos' one host: the plugin (<c>AddHokusaiWebhooks</c>) on an in-memory MassTransit bus, configured as the
/// consumer host would be (<c>Hokusai:Webhook</c> and its <c>Endpoints:&lt;name&gt;</c>), printing nothing of its own:
/// what it does reaches the demo as typed events through <paramref name="listener"/>.
/// </summary>
internal static class DemoHost
{
    public static IHost Build(IReadOnlyDictionary<string, string?> configuration, IWebhookDeliveryListener listener)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.SetMinimumLevel(LogLevel.None);
        builder.Services.AddSingleton(listener);
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.AddHokusaiWebhooks();
            x.UsingInMemory((context, bus) => bus.ConfigureEndpoints(context));
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            // At the deadline (or Ctrl+C), deliveries still waiting are cancelled rather than waited for.
            o.ConsumerStopTimeout = TimeSpan.FromSeconds(1);
            o.StopTimeout = TimeSpan.FromSeconds(3);
        });
        return builder.Build();
    }

    /// <summary>Stops within 5 s; deliveries still waiting (a breaker open, a retry's delay) are abandoned with the in-memory bus.</summary>
    public static async Task StopAsync(IHost host)
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
