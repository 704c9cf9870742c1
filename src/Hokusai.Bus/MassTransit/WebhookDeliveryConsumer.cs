using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Delivers to one endpoint every event it subscribes to (<c>EventTypes</c>): a <see cref="ModelRegistered"/> from a
/// producer on the bus, and a <see cref="PipelineEvent"/> from the host's <c>/ingest</c>, whose exact bytes are sent
/// when the endpoint takes the shape they arrived in. A registration is signed once as the endpoint's format asks; a
/// DeltaOne event as the pipeline signs it, per attempt. An event type the endpoint does not take, or a registration its
/// filter leaves out, is acknowledged without a request. A wait longer than the hold allows is handed to RabbitMQ
/// (<see cref="Redelivery"/>) with the attempt history in headers; a registration that lacks what delivery needs, that
/// the endpoint refuses for its size, or whose retries are spent while the endpoint accepts others, faults and goes to
/// the endpoint's <c>_error</c> queue with the reason.
/// </summary>
internal sealed class WebhookDeliveryConsumer(WebhookEndpoint endpoint, QueueKind queues)
    : IConsumer<ModelRegistered>, IConsumer<PipelineEvent>
{
    public Task Consume(ConsumeContext<ModelRegistered> context)
    {
        var subject = new DeliverySubject(context.Message.ModelId, PipelineEvent.ModelRegisteredType);
        if (!Subscribed(context.Message.IdempotencyKey, subject))
        {
            return Task.CompletedTask;
        }

        var registration = WebhookBody.Keyed(context.Message);
        return Passes(registration, subject)
            ? DeliverAsync(context, Serialize(registration), registration.IdempotencyKey, subject, deltaOne: false)
            : Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<PipelineEvent> context)
    {
        var received = context.Message;
        var subject = new DeliverySubject(received.ModelId, received.EventType);
        if (!Subscribed(received.IdempotencyKey, subject))
        {
            return Task.CompletedTask;
        }

        if (received.Shape == PipelineEventShape.DeltaOne)
        {
            return DeliverAsync(context, received.Body, received.IdempotencyKey, subject, deltaOne: true);
        }

        var registration = WebhookBody.Keyed(received.ToRegistration());
        subject = subject with { ModelId = registration.ModelId };
        if (!Passes(registration, subject))
        {
            return Task.CompletedTask;
        }

        // The shape it arrived in goes out byte for byte, keys we do not know included; another shape is converted.
        var sameShape = received.Shape == (endpoint.Settings.PayloadFormat == WebhookPayloadFormat.Mlflow
            ? PipelineEventShape.Mlflow
            : PipelineEventShape.Guide);
        return DeliverAsync(context, sameShape ? received.Body : Serialize(registration), registration.IdempotencyKey, subject, deltaOne: false);
    }

    private bool Subscribed(string key, DeliverySubject subject)
    {
        if (endpoint.Settings.Subscribes(subject.EventType))
        {
            return true;
        }

        endpoint.Delivery.Filtered(key, subject, $"event type {SafeText.Of(subject.EventType, 60)} is not in EventTypes");
        return false;
    }

    private bool Passes(ModelRegistered registration, DeliverySubject subject)
    {
        if (endpoint.Settings.Filter.Accepts(registration, out var reason))
        {
            return true;
        }

        endpoint.Delivery.Filtered(registration.IdempotencyKey, subject, reason!);
        return false;
    }

    private byte[] Serialize(ModelRegistered registration) => endpoint.Settings.PayloadFormat == WebhookPayloadFormat.Mlflow
        ? MlflowEvent.Serialize(registration)
        : ModelRegisteredJson.Serialize(registration);

    private async Task DeliverAsync<T>(ConsumeContext<T> context, ReadOnlyMemory<byte> body, string key, DeliverySubject subject, bool deltaOne)
        where T : class
    {
        using var activity = DeliveryActivity.Start(context, endpoint.Name);
        var decision = await endpoint.Delivery
            .DeliverAsync(body, key, subject, DeliveryHistory.From(context.Headers), context.CancellationToken, deltaOne)
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
