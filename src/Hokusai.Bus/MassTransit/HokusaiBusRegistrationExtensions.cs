using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>The public entry points: add Hokusai webhook delivery to a MassTransit bus.</summary>
public static class HokusaiBusRegistrationExtensions
{
    /// <summary>
    /// Adds webhook delivery: the default endpoint (queue <c>hokusai-webhook-delivery</c>), its settings bound from
    /// configuration section <c>Hokusai:Webhook</c> then <paramref name="configure"/>, and one further endpoint per child
    /// of <c>Hokusai:Webhook:Endpoints</c> (queue <c>hokusai-webhook-delivery-&lt;name&gt;</c>), which inherits every
    /// setting the default endpoint resolved (from configuration or <paramref name="configure"/>) that its own section
    /// does not set, except the URL and the filter. The settings are validated when the host starts.
    /// </summary>
    public static IBusRegistrationConfigurator AddHokusaiWebhooks(
        this IBusRegistrationConfigurator configurator,
        Action<HokusaiWebhookOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        IServiceCollection services = configurator;

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddOptions<HokusaiWebhookOptions>().ValidateOnStart();
        services.TryAddSingleton(HokusaiSettingNames.Keys);
        services.TryAddSingleton<SettingsReports<HokusaiWebhookOptions>>();
        // Every endpoint's options in three steps, in this order: Hokusai:Webhook; then the code below, for every endpoint;
        // then a named endpoint's own section. So a named endpoint inherits the default's settings from code as from configuration.
        services.AddSingleton<IConfigureOptions<HokusaiWebhookOptions>>(sp => new WebhookOptionsSetup(
            Configuration(sp), sp.GetRequiredService<HokusaiSettingNames>(), sp.GetRequiredService<SettingsReports<HokusaiWebhookOptions>>()));
        if (configure is not null)
        {
            services.ConfigureAll(configure);
        }

        services.AddSingleton<IConfigureOptions<HokusaiWebhookOptions>>(sp => new WebhookEndpointOptionsSetup(
            Configuration(sp), sp.GetRequiredService<HokusaiSettingNames>(), sp.GetRequiredService<SettingsReports<HokusaiWebhookOptions>>()));

        services.TryAddEnumerable(ServiceDescriptor
            .Singleton<IValidateOptions<HokusaiWebhookOptions>, HokusaiWebhookOptionsValidator>());

        // The factory's own per-request log lines are dropped: the telemetry channel records each attempt, URL redacted.
        services.AddHttpClient(WebhookHttpSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Re-resolve DNS now and then; keep enough connections for every concurrent delivery of every endpoint.
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = sp.GetRequiredService<WebhookEndpointSet>().TotalConcurrency,
                AllowAutoRedirect = false,
            });

        services.TryAddSingleton<WebhookHttpSender>();
        services.TryAddSingleton<BreakerFleet>();
        services.TryAddSingleton(sp => QueueKind.From(sp.GetService<IConfiguration>()));
        services.TryAddSingleton<WebhookEndpointSet>();
        services.TryAddSingleton(sp => new EventSubscriptions(
            sp.GetRequiredService<WebhookEndpointSet>(), sp.GetServices<EventSubscription>()));
        services.TryAddSingleton<AcknowledgementTimeouts>();
        services.TryAddSingleton(sp => sp.GetRequiredService<WebhookEndpointSet>().Default);
        services.TryAddSingleton(sp => sp.GetRequiredService<WebhookEndpointSet>().Default.Breaker);

        // One telemetry channel; logs and metrics are its listeners, and applications may add their own.
        services.TryAddSingleton<WebhookDeliveryTelemetry>();
        services.TryAddSingleton<HokusaiBusMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWebhookDeliveryListener, LoggingListener>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWebhookDeliveryListener, HokusaiBusMetrics>(
            sp => sp.GetRequiredService<HokusaiBusMetrics>()));
        services.AddHealthChecks().AddCheck<WebhookBreakerHealthCheck>(
            "hokusai-webhook-breaker", HealthStatus.Degraded, ["ready", "webhook"]);
        services.AddReceiveEndpointObserver<EndpointFaultObserver>();
        // Every webhook endpoint, the default included, is an endpoint registration that ConfigureEndpoints configures.
        // How many there are is known once configuration can be read, so there is a registration for each place in
        // WebhookEndpointSet.All, up to the most a host may have; the places no endpoint takes are left out.
        for (var index = 0; index < WebhookEndpointSet.MaxEndpoints; index++)
        {
            var place = index;
            services.AddSingleton<IEndpointRegistration>(sp => new WebhookEndpointRegistration(sp.GetRequiredService<WebhookEndpointSet>(), place));
        }

        services.AddBusObserver<WebhookBusObserver>();
        return configurator;
    }

    private static IConfiguration Configuration(IServiceProvider services) =>
        services.GetService<IConfiguration>() ?? new ConfigurationBuilder().Build();
}
