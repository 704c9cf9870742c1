using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hokusai.Bus.Receiver;

/// <summary>The public entry points: register the receiver, choose its idempotency store, map its endpoint.</summary>
public static class HokusaiReceiverExtensions
{
    /// <summary>The key prefix of the Redis idempotency store unless another is given.</summary>
    public const string DefaultRedisKeyPrefix = "hokusai:webhook:processed:";

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
        services.TryAddSingleton<WebhookReceiverEndpoint>();
        return services;
    }

    /// <summary>
    /// De-duplicates through Redis instead of memory, so every instance that uses the same Redis and
    /// <paramref name="keyPrefix"/> recognises a key any of them processed. Connects on first use; while Redis is
    /// unreachable, deliveries are answered 503 (the sender retries) and the handler is not called.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379,password=...</c>.</param>
    /// <param name="keyPrefix">Prepended to each idempotency key.</param>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> cannot be parsed.</exception>
    public static IServiceCollection AddHokusaiRedisIdempotencyStore(
        this IServiceCollection services,
        string configuration,
        string keyPrefix = DefaultRedisKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        var options = RedisIdempotencyStore.Configure(configuration);
        services.Replace(ServiceDescriptor.Singleton<IIdempotencyStore>(_ => new RedisIdempotencyStore(options, keyPrefix)));
        return services;
    }

    /// <summary>
    /// De-duplicates through Redis over a connection the application already has (and disposes itself).
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="connection">Returns the application's connection; called once, on first use.</param>
    /// <param name="keyPrefix">Prepended to each idempotency key.</param>
    public static IServiceCollection AddHokusaiRedisIdempotencyStore(
        this IServiceCollection services,
        Func<IServiceProvider, IConnectionMultiplexer> connection,
        string keyPrefix = DefaultRedisKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        services.Replace(ServiceDescriptor.Singleton<IIdempotencyStore>(
            sp => new RedisIdempotencyStore(() => connection(sp), keyPrefix)));
        return services;
    }

    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/></c> to the webhook receiver. For each delivery it reads the raw body (at
    /// most <see cref="HokusaiReceiverOptions.MaxBodyBytes"/>, else 413), verifies <c>X-Hokusai-Signature</c> and any
    /// Standard Webhooks headers over those bytes (else 401), parses the registration (else 400), and answers a
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

        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>()?.IsService(typeof(WebhookReceiverEndpoint)) != true)
        {
            throw new InvalidOperationException(
                "Call services.AddHokusaiWebhookReceiver(...) before MapHokusaiWebhook(...).");
        }

        var services = endpoints.ServiceProvider;
        WebhookReceiverEndpoint? receiver = null; // resolved on the first request, after options were validated at start
        return endpoints
            .MapPost(pattern, context =>
                (receiver ??= services.GetRequiredService<WebhookReceiverEndpoint>()).HandleAsync(context, handler))
            .WithDisplayName($"Hokusai webhook {pattern}");
    }
}
