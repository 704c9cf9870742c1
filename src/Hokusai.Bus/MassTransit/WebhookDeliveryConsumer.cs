using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Delivers each <see cref="ModelRegistered"/> as a signed webhook to one endpoint. A registration the endpoint's filter
/// leaves out is acknowledged without a request. A wait longer than the hold allows is handed to RabbitMQ
/// (<see cref="Redelivery"/>) with the attempt history in headers; a registration that lacks what delivery needs, that
/// the endpoint refuses for its size, or whose retries are spent while the endpoint accepts others, faults and goes to
/// the endpoint's <c>_error</c> queue with the reason.
/// </summary>
internal sealed class WebhookDeliveryConsumer(WebhookEndpoint endpoint, QueueKind queues) : IConsumer<ModelRegistered>
{
    public async Task Consume(ConsumeContext<ModelRegistered> context)
    {
        var registration = WebhookBody.Keyed(context.Message);
        if (!endpoint.Settings.Filter.Accepts(registration, out var reason))
        {
            endpoint.Delivery.Filtered(registration.IdempotencyKey, reason!);
            return;
        }

        var body = endpoint.Settings.PayloadFormat == WebhookPayloadFormat.Mlflow
            ? MlflowEvent.Serialize(registration)
            : ModelRegisteredJson.Serialize(registration);
        using var activity = DeliveryActivity.Start(context, endpoint.Name);
        var decision = await endpoint.Delivery
            .DeliverAsync(body, registration.IdempotencyKey, DeliveryHistory.From(context.Headers), context.CancellationToken)
            .ConfigureAwait(false);
        switch (decision.Kind)
        {
            case DeliveryDecisionKind.Delivered:
                return;
            case DeliveryDecisionKind.Later:
                await Redelivery.LaterAsync(context, decision.Delay, decision.History.ToHeaders(), queues).ConfigureAwait(false);
                return;
            default:
                throw decision.Failure!;
        }
    }
}
