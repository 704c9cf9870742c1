using System.Net;
using Hokusai.Bus.Contracts;
using MassTransit;
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
    /// Adds the webhook delivery consumer (queue <c>hokusai-webhook-delivery</c>) and its settings, bound from
    /// configuration section <c>Hokusai:Webhook</c>, then <paramref name="configure"/>. The settings are validated when
    /// the host starts.
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
        services.AddSingleton<IConfigureOptions<HokusaiWebhookOptions>>(sp =>
            new WebhookSettings(sp.GetService<IConfiguration>() ?? new ConfigurationBuilder().Build()));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor
            .Singleton<IValidateOptions<HokusaiWebhookOptions>, HokusaiWebhookOptionsValidator>());

        // The factory's own per-request log lines are dropped: Log.Attempt records each attempt, with the URL redacted.
        services.AddHttpClient(WebhookHttpSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Re-resolve DNS now and then; keep enough connections for every concurrent delivery.
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = sp.GetRequiredService<IOptions<HokusaiWebhookOptions>>().Value.Concurrency,
                AutomaticDecompression = DecompressionMethods.All,
                AllowAutoRedirect = false,
            });

        services.TryAddSingleton<WebhookHttpSender>();
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<HokusaiWebhookOptions>>().Value;
            var telemetry = sp.GetRequiredService<WebhookDeliveryTelemetry>();
            var url = WebhookUrl.Redact(settings.Url);
            return new WebhookCircuitBreaker(
                settings.CircuitBreakerFailureThreshold,
                settings.CircuitBreakerRecoveryTime,
                sp.GetRequiredService<TimeProvider>(),
                (from, to) => telemetry.Write(new WebhookBreakerChanged(url, from, to)));
        });

        // One telemetry channel; logs and metrics are its listeners, and applications may add their own.
        services.TryAddSingleton<WebhookDeliveryTelemetry>();
        services.TryAddSingleton<HokusaiBusMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWebhookDeliveryListener, LoggingListener>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWebhookDeliveryListener, HokusaiBusMetrics>(
            sp => sp.GetRequiredService<HokusaiBusMetrics>()));
        services.TryAddSingleton<WebhookDelivery>();
        services.AddHealthChecks().AddCheck<WebhookBreakerHealthCheck>(
            "hokusai-webhook-breaker", HealthStatus.Degraded, ["ready", "webhook"]);
        services.AddReceiveEndpointObserver<EndpointFaultObserver>();

        configurator.AddConsumer<WebhookDeliveryConsumer, WebhookDeliveryConsumerDefinition>();
        return configurator;
    }
}
