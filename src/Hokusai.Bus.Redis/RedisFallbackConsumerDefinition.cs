using MassTransit;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>Redis endpoint policy: queue <c>hokusai-redis-fallback</c> (quorum with the rest), raw JSON, exponential retries, then <c>_error</c>.</summary>
internal sealed class RedisFallbackConsumerDefinition : ConsumerDefinition<RedisFallbackConsumer>
{
    private readonly HokusaiRedisOptions _options;

    public RedisFallbackConsumerDefinition(IOptions<HokusaiRedisOptions> options)
    {
        _options = options.Value;
        EndpointName = HokusaiQueues.RedisFallback;
        ConcurrentMessageLimit = _options.Concurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RedisFallbackConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseHokusaiEndpointPolicy(context);
        endpointConfigurator.PrefetchCount = _options.Concurrency;
        if (_options.MaxRetries > 0)
        {
            consumerConfigurator.UseMessageRetry(retry =>
            {
                retry.Exponential(_options.MaxRetries, _options.RetryDelay, TimeSpan.FromSeconds(30), _options.RetryDelay);
                retry.Handle<Exception>(RedisFailure.IsTransient);
            });
        }
    }
}
