namespace Hokusai.Bus;

/// <summary>
/// A registration goes to <c>_error</c>: its retries are spent while the endpoint accepts other deliveries, or the
/// endpoint refused the message itself (413, 431). MassTransit moves it there with this message (attempt count and
/// last reason) in its <c>MT-Fault-Message</c> header.
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
