using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>What every path checks before it sends a registration anywhere (webhook, Redis).</summary>
internal static class WebhookBody
{
    /// <summary>
    /// Validates and fills in a missing idempotency key. The webhook path then serializes it with the contracts'
    /// serializer (after the endpoint's filter); the legacy Redis path writes another shape.
    /// </summary>
    /// <exception cref="InvalidModelRegistrationException">A field that delivery needs is missing or invalid.</exception>
    public static ModelRegistered Keyed(ModelRegistered message)
    {
        ModelRegisteredValidation.EnsureValid(message);
        var key = IdempotencyKey.For(message);
        return string.Equals(key, message.IdempotencyKey, StringComparison.Ordinal) ? message : message with { IdempotencyKey = key };
    }
}
