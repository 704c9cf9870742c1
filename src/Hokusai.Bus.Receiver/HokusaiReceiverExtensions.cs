using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Receiver;

/// <summary>The public entry points: register the receiver and map its endpoint (Redis de-duplication: Hokusai.Bus.Receiver.Redis).</summary>
public static class HokusaiReceiverExtensions
{
    /// <summary>
    /// Adds the webhook receiver: its options (set by <paramref name="configure"/>, validated when the host starts),
    /// and the in-memory idempotency store unless another <see cref="IIdempotencyStore"/> is registered.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets at least <see cref="HokusaiReceiverOptions.Secret"/>.</param>
    public static IServiceCollection AddHokusaiWebhookReceiver(
        this IServiceCollection services,
        Action<HokusaiReceiverOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<HokusaiReceiverOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<HokusaiReceiverOptions>, HokusaiReceiverOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IIdempotencyStore, InMemoryIdempotencyStore>();
        services.TryAddSingleton(sp => new NonceMemory(time: sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<WebhookReceiverEndpoint>();
        return services;
    }

    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/></c> to the webhook receiver of registrations. For each delivery it reads
    /// the raw body (at most <see cref="HokusaiReceiverOptions.MaxBodyBytes"/>, else 413), verifies
    /// <c>X-Hokusai-Signature</c> and any Standard Webhooks headers over those bytes (else 401), parses the registration
    /// (the integration guide's body; the pipeline's MLflow event too with
    /// <see cref="HokusaiReceiverOptions.AcceptMlflowEvent"/>; anything else, a DeltaOne event included, 400), and answers a
    /// duplicate <c>idempotency_key</c> <c>200 {"status":"already_processed"}</c> without calling
    /// <paramref name="handler"/>. Otherwise it calls <paramref name="handler"/> once and answers
    /// <c>200 {"status":"success"}</c>; if the handler throws, the key is released and the answer is 500, so the
    /// sender's retry processes it.
    /// </summary>
    /// <param name="endpoints">The application's routes.</param>
    /// <param name="pattern">The route, e.g. <c>/api/models/ready</c>.</param>
    /// <param name="handler">
    /// Processes one registration. It should not write the response; the endpoint answers for it. The token is
    /// cancelled when the sender goes away.
    /// </param>
    /// <returns>The endpoint's builder, to add authorization, rate limiting or other conventions.</returns>
    /// <exception cref="InvalidOperationException"><see cref="AddHokusaiWebhookReceiver"/> was not called.</exception>
    public static IEndpointConventionBuilder MapHokusaiWebhook(
        this IEndpointRouteBuilder endpoints,
        string pattern,
        Func<ModelRegistered, HttpContext, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        return Map(endpoints, pattern, (receiver, context) => receiver.HandleAsync(context, handler));
    }

    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/></c> to a receiver of every event the host delivers: the integration
    /// guide's registration, the pipeline's MLflow event (<c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c>) and the DeltaOne events
    /// (<c>deltaone.achieved</c>, <c>deltaone.minted</c>, <c>deltaone.reward_ingest_failed</c>), which must carry the
    /// DeltaOne signature (<c>X-Hokusai-Timestamp</c>, <c>X-Hokusai-Nonce</c>; a nonce is accepted once). It verifies,
    /// limits and de-duplicates exactly as <see cref="MapHokusaiWebhook"/> does, and calls <paramref name="handler"/>
    /// once per event with a <see cref="PipelineEvent"/>: its <c>EventType</c>, <c>Shape</c>, exact <c>Body</c> bytes,
    /// <c>ModelId</c> and <c>IdempotencyKey</c> (a registration's key, or for a DeltaOne event the key the host derives,
    /// <see cref="DeltaOneEventKey"/>); <c>ToRegistration()</c> reads a registration's fields. Another
    /// <c>event_type</c> is answered 400.
    /// </summary>
    /// <param name="endpoints">The application's routes.</param>
    /// <param name="pattern">The route, e.g. <c>/api/webhooks/model-registered</c>.</param>
    /// <param name="handler">Processes one event; throw to fail it (500, the sender retries).</param>
    /// <returns>The endpoint's builder.</returns>
    /// <exception cref="InvalidOperationException"><see cref="AddHokusaiWebhookReceiver"/> was not called.</exception>
    public static IEndpointConventionBuilder MapHokusaiWebhookEvents(
        this IEndpointRouteBuilder endpoints,
        string pattern,
        Func<PipelineEvent, HttpContext, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        return Map(endpoints, pattern, (receiver, context) => receiver.HandleEventsAsync(context, handler));
    }

    private static IEndpointConventionBuilder Map(
        IEndpointRouteBuilder endpoints, string pattern, Func<WebhookReceiverEndpoint, HttpContext, Task> handle)
    {
        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>()?.IsService(typeof(WebhookReceiverEndpoint)) != true)
        {
            throw new InvalidOperationException(
                "Call services.AddHokusaiWebhookReceiver(...) before MapHokusaiWebhook(...) or MapHokusaiWebhookEvents(...).");
        }

        var services = endpoints.ServiceProvider;
        WebhookReceiverEndpoint? receiver = null; // resolved on the first request, after options were validated at start
        return endpoints
            .MapPost(pattern, context => handle(receiver ??= services.GetRequiredService<WebhookReceiverEndpoint>(), context))
            .WithDisplayName($"Hokusai webhook {pattern}");
    }
}
