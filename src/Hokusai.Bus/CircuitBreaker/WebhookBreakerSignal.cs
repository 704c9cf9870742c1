namespace Hokusai.Bus;

/// <summary>
/// What the hosts delivering to one webhook endpoint tell each other through RabbitMQ, so that their breakers act as
/// one: a failed attempt, the breaker opened (for how long), a trial that succeeded, or a host that has just started
/// asking whether the breaker is open. Each host hears them on its own temporary queue bound to this message's
/// exchange; a host ignores its own. Published by the plugin; nothing else needs to send or read them.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Endpoint">The endpoint's name (<c>default</c> or its name under <c>Hokusai:Webhook:Endpoints</c>).</param>
/// <param name="Host">The host that says so (an id unique to the process).</param>
/// <param name="OpenFor">For <see cref="WebhookBreakerSignalKind.Opened"/>: how long from now the breaker stays open.</param>
public sealed record WebhookBreakerSignal(WebhookBreakerSignalKind Kind, string Endpoint, string Host, TimeSpan OpenFor);

/// <summary>What a <see cref="WebhookBreakerSignal"/> says.</summary>
public enum WebhookBreakerSignalKind
{
    /// <summary>An attempt failed while the breaker was closed: it counts toward every host's threshold.</summary>
    Failed,

    /// <summary>The breaker opened (threshold reached or trial failed); the sender makes the next trial.</summary>
    Opened,

    /// <summary>The sender's trial (or any request) succeeded: the breaker is closed everywhere.</summary>
    Closed,

    /// <summary>A host started: a host whose breaker is open answers with <see cref="Opened"/> and the time left.</summary>
    Asked,
}
