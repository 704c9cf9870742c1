using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Delivers each <see cref="ModelRegistered"/> as a signed webhook. A wait longer than the hold allows is handed to
/// RabbitMQ (<see cref="Redelivery"/>) with the attempt history in headers; a registration that lacks what delivery
/// needs, that the endpoint refuses for its size, or whose retries are spent while the endpoint accepts others, faults
/// and goes to <c>hokusai-webhook-delivery_error</c> with the reason.
/// </summary>
internal sealed class WebhookDeliveryConsumer(WebhookDelivery delivery) : IConsumer<ModelRegistered>
{
    public async Task Consume(ConsumeContext<ModelRegistered> context)
    {
        var (body, key) = WebhookBody.Of(context.Message);
        var decision = await delivery.DeliverAsync(body, key, DeliveryHistory.From(context.Headers), context.CancellationToken)
            .ConfigureAwait(false);
        switch (decision.Kind)
        {
            case DeliveryDecisionKind.Delivered:
                return;
            case DeliveryDecisionKind.Later:
                var history = decision.History with { Redeliveries = decision.History.Redeliveries + 1 };
                await Redelivery.LaterAsync(context, decision.Delay, history.ToHeaders()).ConfigureAwait(false);
                return;
            default:
                throw decision.Failure!;
        }
    }
}
