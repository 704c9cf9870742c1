using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>Publishing registrations from .NET producers.</summary>
public static class ModelRegisteredPublishExtensions
{
    /// <summary>
    /// Fills in a missing idempotency key (derived, so a re-publish gets the same one) and timestamp (now), checks
    /// what delivery needs, and publishes it as the webhook body in raw JSON (as Python producers publish it). With
    /// RabbitMQ, MassTransit waits for the broker's publisher confirm.
    /// </summary>
    /// <returns>The registration as published.</returns>
    /// <exception cref="InvalidModelRegistrationException">A required field is missing or invalid; nothing is published.</exception>
    public static async Task<ModelRegistered> PublishModelRegistered(
        this IPublishEndpoint publishEndpoint,
        ModelRegistered registration,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publishEndpoint);
        ArgumentNullException.ThrowIfNull(registration);

        if (registration.Timestamp == default)
        {
            registration = registration with { Timestamp = (time ?? TimeProvider.System).GetUtcNow() };
        }

        registration = registration with { IdempotencyKey = IdempotencyKey.For(registration) };
        ModelRegisteredValidation.EnsureValid(registration);
        await publishEndpoint.Publish(registration, static context => context.Serializer = RegistrationBodySerializer.Instance, cancellationToken)
            .ConfigureAwait(false);
        return registration;
    }
}
