using MassTransit;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>Redis endpoint policy: queue <c>hokusai-redis-fallback</c> (quorum with the rest), raw JSON; a write's quick retries are <see cref="RedisWriteRetry"/>'s, then the message waits in RabbitMQ; a permanent failure goes to <c>_error</c>.</summary>
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
    }
}
