using System.Net;

namespace Hokusai.Bus;

/// <summary>The outcome of one HTTP attempt.</summary>
internal readonly record struct AttemptResult(int? StatusCode, TimeSpan? RetryAfter, string Reason)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    /// <summary>
    /// The endpoint refused this message for what it is, not because it is down: 413 (body too large) or 431 (headers
    /// too large). Retrying cannot help, so the message goes to <c>_error</c> at once and the breaker does not count it.
    /// </summary>
    public bool IsPermanent => StatusCode is 413 or 431;

    /// <summary>No request was made: the breaker stayed open longer than the hold allows.</summary>
    public static AttemptResult NotSent { get; } = new(null, null, "not sent: the circuit breaker is open");

    public static AttemptResult FromResponse(HttpStatusCode status, TimeSpan? retryAfter) =>
        new((int)status, retryAfter, $"HTTP {(int)status} ({status})");

    public static AttemptResult TimedOut(TimeSpan timeout) =>
        new(null, null, $"timed out after {timeout.TotalSeconds:0.###} s (WEBHOOK_TIMEOUT)");

    public static AttemptResult ConnectionError(HttpRequestException e) =>
        new(null, null, $"connection error: {e.HttpRequestError}: {e.Message}");
}
