namespace Hokusai.Bus;

/// <summary>How one webhook attempt ended.</summary>
public enum WebhookAttemptKind
{
    /// <summary>The endpoint answered 2xx.</summary>
    Accepted,

    /// <summary>The endpoint answered with another status (see the status code).</summary>
    Refused,

    /// <summary>No answer within the attempt's timeout.</summary>
    TimedOut,

    /// <summary>The request could not be sent or its answer not read (DNS, refused connection, reset).</summary>
    ConnectionFailed,

    /// <summary>No request was made: the circuit breaker is open.</summary>
    NotSent,
}
