namespace Hokusai.Bus;

/// <summary>A circuit breaker's state, as <c>webhook_circuit_breaker_state</c> exports it.</summary>
public enum WebhookCircuitState
{
    /// <summary>Requests flow.</summary>
    Closed = 0,

    /// <summary>No request is sent until the recovery time has passed.</summary>
    Open = 1,

    /// <summary>One trial request is in flight; its outcome closes or reopens the breaker.</summary>
    HalfOpen = 2,
}
