namespace Hokusai.Bus;

/// <summary>
/// What webhook delivery does, published to every <see cref="IWebhookDeliveryListener"/>: the plugin's logs and
/// metrics are two such listeners; add your own to watch deliveries in tests or tools. URLs are redacted; no event
/// carries a secret or a body.
/// </summary>
/// <param name="Url">The destination, without user info or query.</param>
public abstract record WebhookDeliveryEvent(string Url)
{
    /// <summary>The endpoint (subscription) it happened on: <c>default</c> for the guide's, else its name.</summary>
    public string Endpoint { get; init; } = WebhookEndpointNames.Default;

    /// <summary>The registration's model id, or the DeltaOne event's <c>model_id</c>; null when not known.</summary>
    public string? ModelId { get; init; }

    /// <summary>What is delivered: <c>model_registered</c>, or a <c>deltaone.*</c> type.</summary>
    public string EventType { get; init; } = Contracts.PipelineEvent.ModelRegisteredType;
}

/// <summary>One HTTP attempt ended: a status, a time-out or a connection error.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="Attempt">
/// The request's number for this registration, as the receiver saw them: 1 for the first, failed breaker trials
/// included (they are not counted against the retries, but they are requests).
/// </param>
/// <param name="Kind">How it ended: accepted, refused (see <paramref name="StatusCode"/>), timed out, connection failed.</param>
/// <param name="StatusCode">The HTTP status, or null for a time-out or connection error.</param>
/// <param name="Outcome">The same as text, e.g. <c>HTTP 500 (InternalServerError)</c>.</param>
/// <param name="Duration">How long the attempt took.</param>
/// <param name="IsTrial">Whether it was the circuit breaker's half-open trial.</param>
public sealed record WebhookAttemptFinished(
    string Url, string IdempotencyKey, int Attempt, WebhookAttemptKind Kind, int? StatusCode, string Outcome,
    TimeSpan Duration, bool IsTrial)
    : WebhookDeliveryEvent(Url);

/// <summary>A counted retry is due after <paramref name="Delay"/>.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="NextAttempt">The counted attempt that will follow: retry N is attempt N + 1 (failed breaker trials do not count).</param>
/// <param name="Delay">The backoff, or a longer honoured <c>Retry-After</c>.</param>
public sealed record WebhookRetryScheduled(string Url, string IdempotencyKey, int NextAttempt, TimeSpan Delay)
    : WebhookDeliveryEvent(Url);

/// <summary>The next wait did not fit in the hold (<c>MaxHold</c>): the message waits in a RabbitMQ delay queue.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="Delay">How long it waits there.</param>
/// <param name="Attempts">Attempts counted so far.</param>
/// <param name="Reason">The last failure, or why no request was made.</param>
public sealed record WebhookDeferred(string Url, string IdempotencyKey, TimeSpan Delay, int Attempts, string Reason)
    : WebhookDeliveryEvent(Url);

/// <summary>The endpoint accepted the registration (2xx).</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="Attempts">Requests it took in all, on every host and across waits in the broker, failed trials included.</param>
/// <param name="Duration">From the first attempt in this host to the 2xx.</param>
public sealed record WebhookDelivered(string Url, string IdempotencyKey, int Attempts, TimeSpan Duration)
    : WebhookDeliveryEvent(Url)
{
    /// <summary>The attempt the endpoint accepted, already written to the channel just before this event.</summary>
    public WebhookAttemptFinished? AcceptedAttempt { get; init; }
}

/// <summary>The registration goes to <c>_error</c>: retries spent while the endpoint accepted others, or 413/431.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="Attempts">Attempts counted.</param>
/// <param name="Reason">The last failure.</param>
/// <param name="Duration">From the first attempt in this host to the decision.</param>
public sealed record WebhookFailed(string Url, string IdempotencyKey, int Attempts, string Reason, TimeSpan Duration)
    : WebhookDeliveryEvent(Url);

/// <summary>The endpoint's filter let the registration through to no request: acknowledged, counted, not sent.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="IdempotencyKey">The registration's key.</param>
/// <param name="Reason">The filter rule it did not pass.</param>
public sealed record WebhookFiltered(string Url, string IdempotencyKey, string Reason)
    : WebhookDeliveryEvent(Url);

/// <summary>The destination's circuit breaker changed state.</summary>
/// <param name="Url">The destination, redacted.</param>
/// <param name="From">The state it left.</param>
/// <param name="To">The state it entered.</param>
public sealed record WebhookBreakerChanged(string Url, WebhookCircuitState From, WebhookCircuitState To)
    : WebhookDeliveryEvent(Url);

/// <summary>
/// Receives every <see cref="WebhookDeliveryEvent"/>, synchronously, on the delivering thread: keep it quick and never
/// throw. Register it in DI (<c>services.AddSingleton&lt;IWebhookDeliveryListener, MyListener&gt;()</c>).
/// </summary>
public interface IWebhookDeliveryListener
{
    /// <summary>Called once per event.</summary>
    void Write(WebhookDeliveryEvent deliveryEvent);
}
