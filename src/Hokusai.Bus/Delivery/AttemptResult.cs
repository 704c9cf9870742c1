using System.Net;

namespace Hokusai.Bus;

/// <summary>The outcome of one HTTP attempt: what happened (<see cref="Kind"/>) and a short text for logs and headers.</summary>
internal readonly record struct AttemptResult(WebhookAttemptKind Kind, int? StatusCode, TimeSpan? RetryAfter, string Reason)
{
    public bool Succeeded => Kind == WebhookAttemptKind.Accepted;

    /// <summary>
    /// The endpoint refused this message for what it is, not because it is down: 413 (body too large) or 431 (headers
    /// too large). Retrying cannot help, so the message goes to <c>_error</c> at once and the breaker does not count it.
    /// </summary>
    public bool IsPermanent => StatusCode is 413 or 431;

    public static AttemptResult FromResponse(HttpStatusCode status, TimeSpan? retryAfter) =>
        new((int)status is >= 200 and < 300 ? WebhookAttemptKind.Accepted : WebhookAttemptKind.Refused,
            (int)status, retryAfter, $"HTTP {(int)status} ({status})");

    public static AttemptResult TimedOut(TimeSpan timeout) =>
        new(WebhookAttemptKind.TimedOut, null, null, $"timed out after {timeout.TotalSeconds:0.###} s");

    public static AttemptResult ConnectionError(HttpRequestException e) =>
        new(WebhookAttemptKind.ConnectionFailed, null, null, $"connection error: {e.HttpRequestError}: {e.Message}");
}
