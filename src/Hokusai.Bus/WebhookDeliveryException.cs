namespace Hokusai.Bus;

/// <summary>
/// Every attempt to deliver a registration failed. MassTransit moves the message to the <c>_error</c> queue with this
/// message (attempt count and last reason) in its <c>MT-Fault-Message</c> header.
/// </summary>
public sealed class WebhookDeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebhookDeliveryException(string idempotencyKey, int attempts, string lastReason)
        : base($"Webhook delivery of {idempotencyKey} failed after {attempts} attempt(s); last: {lastReason}.")
    {
        IdempotencyKey = idempotencyKey;
        Attempts = attempts;
        LastReason = lastReason;
    }

    /// <summary>The registration's idempotency key.</summary>
    public string IdempotencyKey { get; }

    /// <summary>HTTP attempts made.</summary>
    public int Attempts { get; }

    /// <summary>Why the last attempt failed: a status code, a time-out or a connection error.</summary>
    public string LastReason { get; }
}
