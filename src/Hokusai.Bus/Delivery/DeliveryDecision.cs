namespace Hokusai.Bus;

/// <summary>What becomes of a delivery after an attempt (<see cref="DeliveryRules.Decide"/>) or a hold.</summary>
internal enum DeliveryDecisionKind
{
    /// <summary>The endpoint answered 2xx.</summary>
    Delivered,

    /// <summary>A counted attempt failed: retry after the backoff (<see cref="DeliveryDecision.Delay"/>), here if it fits in the hold.</summary>
    Retry,

    /// <summary>Retries spent or a trial failed, and nothing shows the endpoint is up: try again after the recovery time, here if it fits.</summary>
    Wait,

    /// <summary>Wait <see cref="DeliveryDecision.Delay"/> in RabbitMQ, then try again with the history carried in headers.</summary>
    Later,

    /// <summary>Retries spent while the endpoint accepted others: <c>_error</c>.</summary>
    DeadLetter,

    /// <summary>The endpoint refused the message itself (413/431): <c>_error</c> at once.</summary>
    Rejected,
}

/// <summary>A decision about one message, with its history as it now stands.</summary>
internal readonly record struct DeliveryDecision(
    DeliveryDecisionKind Kind, DeliveryHistory History, TimeSpan Delay = default, WebhookDeliveryException? Failure = null)
{
    /// <summary>Whether the message is done with in this host (delivered, to <c>_error</c>, or to RabbitMQ to wait).</summary>
    public bool IsFinal => Kind is not (DeliveryDecisionKind.Retry or DeliveryDecisionKind.Wait);

    /// <summary>This decision's wait, moved to RabbitMQ: the copy in the delay queue counts one more redelivery.</summary>
    public DeliveryDecision InRabbitMq() => new(DeliveryDecisionKind.Later,
        History with { Redeliveries = History.Redeliveries + 1 }, Delay > TimeSpan.Zero ? Delay : TimeSpan.FromMilliseconds(1));
}
