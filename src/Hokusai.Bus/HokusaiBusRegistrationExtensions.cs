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

    /// <summary>
    /// Adds the legacy Redis feed (queue <c>hokusai-redis-fallback</c>): every registration PUBLISHed to the legacy
    /// channel and LPUSHed to the legacy list, independent of webhook delivery. Settings bound from configuration section
    /// <c>Hokusai:Redis</c>, then <paramref name="configure"/>; validated at start-up.
    /// </summary>
    public static IBusRegistrationConfigurator AddHokusaiRedisFallback(
        this IBusRegistrationConfigurator configurator,
        Action<HokusaiRedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        IServiceCollection services = configurator;

        services.AddMetrics();
        services.AddOptions<HokusaiRedisOptions>().ValidateOnStart();
        services.AddSingleton<IConfigureOptions<HokusaiRedisOptions>>(sp =>
            new RedisSettings(sp.GetService<IConfiguration>() ?? new ConfigurationBuilder().Build()));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HokusaiRedisOptions>, HokusaiRedisOptionsValidator>());
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisFallbackMetrics>();
        services.AddHealthChecks().AddCheck<RedisFallbackHealthCheck>(
            "hokusai-redis-fallback", HealthStatus.Degraded, ["ready", "redis"]);

        configurator.AddConsumer<RedisFallbackConsumer, RedisFallbackConsumerDefinition>();
        return configurator;
    }

    /// <summary>
    /// What the host runs: webhook delivery, plus the Redis fallback when <c>Hokusai:Redis:Enabled</c> is true in
    /// <paramref name="configuration"/> (migration phase 1; the host maps <c>ENABLE_REDIS_FALLBACK</c> onto it). With
    /// it false, no Redis consumer, queue or connection exists. A value that is not a flag stops the host at start-up.
    /// </summary>
    public static IBusRegistrationConfigurator AddHokusaiBus(
        this IBusRegistrationConfigurator configurator,
        IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        ArgumentNullException.ThrowIfNull(configuration);
        configurator.AddHokusaiWebhooks();

        var section = configuration.GetSection(HokusaiRedisOptions.SectionName);
        var errors = new Dictionary<string, string>();
        var enabled = false;
        new SettingReader(section, section.Path, null, null, errors).Flag(HokusaiRedisOptions.EnabledKey, v => enabled = v);
        if (errors.Count > 0)
        {
            // Reported with the other settings when the host starts, through the Redis options' validation.
            IServiceCollection services = configurator;
            services.AddOptions<HokusaiRedisOptions>().ValidateOnStart()
                .Configure(o => o.ReadErrors[HokusaiRedisOptions.EnabledKey] = errors[HokusaiRedisOptions.EnabledKey]);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HokusaiRedisOptions>, HokusaiRedisOptionsValidator>());
        }
        else if (enabled)
        {
            configurator.AddHokusaiRedisFallback();
        }

        return configurator;
    }
}

/// <summary>Publishing registrations from .NET producers.</summary>
public static class ModelRegisteredPublishExtensions
{
    /// <summary>
    /// Fills in a missing idempotency key (derived, so a re-publish gets the same one) and timestamp (now), checks
    /// what delivery needs, and publishes. With RabbitMQ, MassTransit waits for the broker's publisher confirm.
    /// </summary>
    /// <returns>The registration as published.</returns>
    /// <exception cref="InvalidModelRegistrationException">A required field is missing or invalid; nothing is published.</exception>
    public static async Task<ModelRegistered> PublishModelRegistered(
        this IPublishEndpoint publishEndpoint,
        ModelRegistered registration,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publishEndpoint);
        ArgumentNullException.ThrowIfNull(registration);

        if (registration.Timestamp == default)
        {
            registration = registration with { Timestamp = (time ?? TimeProvider.System).GetUtcNow() };
        }

        registration = registration with { IdempotencyKey = IdempotencyKey.For(registration) };
        ModelRegisteredValidation.EnsureValid(registration);
        await publishEndpoint.Publish(registration, cancellationToken).ConfigureAwait(false);
        return registration;
    }
}
