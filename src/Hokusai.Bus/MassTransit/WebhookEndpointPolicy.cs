using MassTransit;
using MassTransit.Middleware;

namespace Hokusai.Bus;

/// <summary>
/// What every webhook endpoint's receive endpoint is: raw JSON accepted from non-.NET producers, <c>Concurrency</c>
/// deliveries at once, no MassTransit retry (HTTP retries and the breaker live in the delivery itself), an error
/// pipe whose reasons name the field, and on RabbitMQ a watch for channels closed by an acknowledgement timeout.
/// </summary>
internal static class WebhookEndpointPolicy
{
    public static void Apply(IReceiveEndpointConfigurator endpoint, int concurrency, IServiceProvider services)
    {
        endpoint.ConfigureRawJson();
        endpoint.ConfigureQueueKind(services);
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit && services.GetService(typeof(AcknowledgementTimeouts)) is AcknowledgementTimeouts timeouts)
        {
            // A channel RabbitMQ closes for an acknowledgement timeout is named, counted, and shortens the hold.
            rabbit.ConfigureChannel(channel => channel.UseFilter(new AcknowledgementTimeoutFilter(timeouts, rabbit.InputAddress.AbsolutePath.Split('/')[^1])));
        }

        // Messages waiting out a retry or an open breaker hold their slot (at most the hold; longer waits are in a
        // delay queue); the rest stay ready in the queue.
        endpoint.PrefetchCount = concurrency;
        endpoint.ConcurrentMessageLimit = concurrency;
    }

    /// <summary>
    /// On RabbitMQ with <see cref="QueueKind.Quorum"/>: the queue, its <c>_error</c> and its <c>_skipped</c> queue are
    /// replicated quorum queues (the delay queues follow in <see cref="Redelivery"/>).
    /// </summary>
    public static void ConfigureQueueKind(this IReceiveEndpointConfigurator endpoint, IServiceProvider services)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit && QueueKind.Of(services).Quorum)
        {
            // MassTransit declares _error and _skipped with the queue's own x-queue-type.
            rabbit.SetQuorumQueue();
        }
    }

    /// <summary>
    /// Accept a bare JSON payload (no MassTransit envelope), as a Python producer sends it, with content type
    /// application/json or none at all; MassTransit's envelope keeps working for .NET producers; and the host's
    /// <c>/ingest</c> events as it publishes them (<see cref="BarePipelineEvent"/>).
    /// </summary>
    public static void ConfigureRawJson(this IReceiveEndpointConfigurator endpoint)
    {
        // MassTransit's raw JSON deserializer, reading a registration with one parse instead of two.
        endpoint.AddDeserializer(RawRegistrationDeserializer.Instance, isDefault: true);
        endpoint.AddDeserializer(BarePipelineEventDeserializer.Instance);
        endpoint.ConfigureError(error =>
        {
            // Configuring the error pipe replaces MassTransit's default one, so its two filters are added back after ours.
            error.UseFilter(FieldNamingErrorFilter.Instance);
            error.UseFilter(new GenerateFaultFilter());
            error.UseFilter(new ErrorTransportFilter());
        });
    }
}
