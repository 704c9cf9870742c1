using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>The exact bytes every path sends for one registration (webhook, Redis, tools).</summary>
internal static class WebhookBody
{
    /// <summary>Validates, fills in a missing idempotency key, and serializes with the contracts' serializer.</summary>
    /// <exception cref="InvalidModelRegistrationException">A field that delivery needs is missing or invalid.</exception>
    public static (byte[] Body, string IdempotencyKey) Of(ModelRegistered message)
    {
        message = Keyed(message);
        return (ModelRegisteredJson.Serialize(message), message.IdempotencyKey);
    }

    /// <summary>Validates and fills in a missing idempotency key, for paths that write another shape (legacy Redis).</summary>
    /// <exception cref="InvalidModelRegistrationException">A field that delivery needs is missing or invalid.</exception>
    public static ModelRegistered Keyed(ModelRegistered message)
    {
        ModelRegisteredValidation.EnsureValid(message);
        var key = IdempotencyKey.For(message);
        return string.Equals(key, message.IdempotencyKey, StringComparison.Ordinal) ? message : message with { IdempotencyKey = key };
    }
}
