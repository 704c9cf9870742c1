using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// The seam for a consumer that lives beside webhook delivery on the same bus and exchange (the Redis fallback package
/// is one): the same receive-endpoint policy, and the same wait in RabbitMQ with its count carried in the message's
/// headers. Nothing else of the plugin's inside is shared, so such a package needs only this public surface.
/// </summary>
public static class HokusaiConsumerExtensions
{
    /// <summary>
    /// What every Hokusai receive endpoint is: a bare JSON payload accepted from non-.NET producers (MassTransit's
    /// envelope still works), a body that cannot be read sent to <c>_error</c> with a reason naming the field, and on
    /// RabbitMQ with <c>Hokusai:QuorumQueues=true</c> a quorum queue (its <c>_error</c> and <c>_skipped</c> too).
    /// </summary>
    /// <param name="endpoint">The endpoint being configured, e.g. in a <c>ConsumerDefinition</c>.</param>
    /// <param name="services">The bus's services (a definition's <c>IRegistrationContext</c>).</param>
    public static void UseHokusaiEndpointPolicy(this IReceiveEndpointConfigurator endpoint, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(services);
        endpoint.ConfigureRawJson();
        endpoint.ConfigureQueueKind(services);
    }

    /// <summary>How often this message has already waited in RabbitMQ (<see cref="RedeliverLaterAsync{T}"/>); 0 at first.</summary>
    public static int HokusaiRedeliveries(this ConsumeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return DeliveryHistory.From(context.Headers).Redeliveries;
    }

    /// <summary>
    /// Has the message wait <paramref name="delay"/> in RabbitMQ rather than in this process: a copy, with the wait
    /// counted and <paramref name="reason"/> (sanitized by the caller) recorded in its headers, goes to a delay queue that
    /// returns it to this endpoint's queue, confirmed by the broker. Return after it; MassTransit then acknowledges the
    /// original. However long the wait, nothing is held unacknowledged meanwhile.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="context">The message being consumed.</param>
    /// <param name="delay">How long it waits (rounded up to two significant digits of milliseconds).</param>
    /// <param name="reason">Why, as ops may read it; never a secret.</param>
    public static Task RedeliverLaterAsync<T>(this ConsumeContext<T> context, TimeSpan delay, string reason)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var history = DeliveryHistory.From(context.Headers);
        history = history with { Redeliveries = history.Redeliveries + 1, LastReason = reason };
        // The bus's QueueKind, from the consumer's scope (MassTransit puts it on the context).
        var queues = QueueKind.Of(context.TryGetPayload<IServiceProvider>(out var services) ? services : null);
        return Redelivery.LaterAsync(context, delay, history.ToHeaders(), queues);
    }
}
