using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>The public entry point of the Redis fallback: add it to a MassTransit bus.</summary>
public static class HokusaiRedisRegistrationExtensions
{
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
        services.TryAddSingleton(HokusaiSettingNames.Keys);
        services.TryAddSingleton<SettingsReports<HokusaiRedisOptions>>();
        services.AddSingleton<IConfigureOptions<HokusaiRedisOptions>>(sp => new RedisOptionsSetup(
            sp.GetService<IConfiguration>() ?? new ConfigurationBuilder().Build(), sp.GetRequiredService<HokusaiSettingNames>(),
            sp.GetRequiredService<SettingsReports<HokusaiRedisOptions>>()));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HokusaiRedisOptions>, HokusaiRedisOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RedisConnection>();
        services.AddSingleton(EventSubscriptions.Add(Contracts.PipelineEvent.ModelRegisteredType)); // registrations from /ingest too
        services.TryAddSingleton<RedisFallbackMetrics>();
        services.TryAddSingleton<RedisWriteRetry>();
        services.AddHealthChecks().AddCheck<RedisFallbackHealthCheck>(
            "hokusai-redis-fallback", HealthStatus.Degraded, ["ready", "redis"]);

        configurator.AddConsumer<RedisFallbackConsumer, RedisFallbackConsumerDefinition>();
        return configurator;
    }
}
