namespace Hokusai.Bus;

/// <summary>What became of one delivery in this host.</summary>
internal enum DeliveryDecisionKind
{
    /// <summary>The endpoint answered 2xx.</summary>
    Delivered,

    /// <summary>Wait <see cref="DeliveryDecision.Delay"/> in RabbitMQ, then try again with the history carried in headers.</summary>
    Later,

    /// <summary>Retries spent while the endpoint accepted others: <c>_error</c>.</summary>
    DeadLetter,

    /// <summary>The endpoint refused the message itself (413/431): <c>_error</c> at once.</summary>
    Rejected,
}

/// <summary>The outcome of <see cref="WebhookDelivery.DeliverAsync"/>.</summary>
internal readonly record struct DeliveryDecision(
    DeliveryDecisionKind Kind, DeliveryHistory History, TimeSpan Delay, WebhookDeliveryException? Failure)
{

    public static DeliveryDecision Delivered(DeliveryHistory history) => new(DeliveryDecisionKind.Delivered, history, default, null);

    public static DeliveryDecision LaterBy(TimeSpan delay, DeliveryHistory history) => new(DeliveryDecisionKind.Later, history, delay, null);

    public static DeliveryDecision DeadLetter(DeliveryHistory history, WebhookDeliveryException failure) =>
        new(DeliveryDecisionKind.DeadLetter, history, default, failure);

    public static DeliveryDecision Rejected(DeliveryHistory history, WebhookDeliveryException failure) =>
        new(DeliveryDecisionKind.Rejected, history, default, failure);
}
