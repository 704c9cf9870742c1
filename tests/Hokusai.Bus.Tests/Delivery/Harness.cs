using Hokusai.Bus.Contracts;
using MassTransit;
using Hokusai.Bus.TestSupport;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>The plugin in MassTransit's in-memory harness, configured as the host would, with test settings.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public const string Secret = "harness-secret-do-not-log";

    private readonly ServiceProvider _provider;

    /// <summary>The first <c>Fault&lt;ModelRegistered&gt;</c> published, as it is published.</summary>
    private readonly FaultObserver _faults = new();

    private Harness(ServiceProvider provider)
    {
        _provider = provider;
        Test = provider.GetRequiredService<ITestHarness>();
        Test.Bus.ConnectPublishObserver(_faults);
    }

    public ITestHarness Test { get; }

    public IServiceProvider Services => _provider;

    public static async Task<Harness> StartAsync(
        Uri url,
        Action<HokusaiWebhookOptions>? configure = null,
        TimeProvider? time = null,
        IDictionary<string, string?>? settings = null,
        IWebhookDeliveryListener? listener = null,
        IReadOnlyList<IWebhookDeliveryListener>? listeners = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        return await StartAsync(collection, url, configure, time, settings, listener, listeners);
    }

    private static async Task<Harness> StartAsync(
        ServiceCollection services,
        Uri url,
        Action<HokusaiWebhookOptions>? configure,
        TimeProvider? time,
        IDictionary<string, string?>? settings,
        IWebhookDeliveryListener? listener,
        IReadOnlyList<IWebhookDeliveryListener>? listeners)
    {
        IEnumerable<IWebhookDeliveryListener> all = listener is null ? listeners ?? [] : [listener, .. listeners ?? []];
        foreach (var each in all)
        {
            services.AddSingleton(each);
        }

        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)); // TryAdds: a test's own logging (FakeLogger) stays
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddMassTransitTestHarness(x =>
        {
            x.DisableUsageTelemetry();
            x.AddHokusaiWebhooks(o =>
            {
                o.Url = url;
                o.Secret = Secret;
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
                o.Timeout = TimeSpan.FromSeconds(5);
                configure?.Invoke(o);
            });
        });

        var provider = services.BuildServiceProvider(validateScopes: true);
        var harness = new Harness(provider);
        await harness.Test.Start();
        return harness;
    }

    public static ModelRegistered Registration(string modelId = "model_abc123", string? key = null) => new()
    {
        ModelId = modelId,
        IdempotencyKey = key ?? Guid.NewGuid().ToString(),
        RegisteredVersion = "1",
        Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
        TokenSymbol = "TOKEN_ABC",
        BaselineMetrics = new Dictionary<string, double> { ["accuracy"] = 0.85, ["f1_score"] = 0.82 },
        Metadata = new ModelMetadata
        {
            ModelName = "sentiment-analyzer",
            MlflowRunId = "run_xyz789",
            ContributorAddress = "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb",
            ExperimentName = "production-models",
            Tags = new Dictionary<string, string> { ["environment"] = "production" },
        },
    };

    /// <summary>
    /// A receiver script: <paramref name="refusedKey"/> gets <paramref name="refusal"/> every time; every other key
    /// is accepted. On the refused key's attempt <paramref name="lastAttempt"/>, another registration is published and
    /// delivered first, so the endpoint is shown to be up and the spent registration goes to <c>_error</c>.
    /// </summary>
    public Func<WebhookReceiver.RequestInfo, ValueTask<WebhookReceiver.Response>> RefuseWhileAcceptingOthers(
        string refusedKey, int lastAttempt, WebhookReceiver.Response refusal)
    {
        var attempts = 0;
        return async info =>
        {
            if (info.IdempotencyKey != refusedKey)
            {
                return WebhookReceiver.Response.Ok;
            }

            if (Interlocked.Increment(ref attempts) == lastAttempt)
            {
                await Test.Bus.Publish(Registration("model_accepted"));
                await ConsumedAsync("model_accepted");
            }

            return refusal;
        };
    }

    /// <summary>Completes once the consumer has finished with the registration of <paramref name="modelId"/>.</summary>
    public async Task ConsumedAsync(string modelId)
    {
        Assert.True(await Test.Consumed.Any<ModelRegistered>(m => m.Context.Message.ModelId == modelId),
            $"expected {modelId} to be consumed");
    }

    /// <summary>
    /// The fault MassTransit published for a message that went to the error queue, awaited as it is published (within
    /// 30 s). Not the harness's <c>Published.Any</c>: that gives up, for good, once the bus has been idle for 1.2 s
    /// (<c>TestInactivityTimeout</c>), and a loaded CI machine paused that long mid-delivery once.
    /// </summary>
    public async Task<Fault<ModelRegistered>> FaultAsync()
    {
        try
        {
            return await _faults.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Assert.Fail("expected a Fault<ModelRegistered> within 30 s");
            throw;
        }
    }

    private sealed class FaultObserver : IPublishObserver
    {
        public TaskCompletionSource<Fault<ModelRegistered>> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class
        {
            if (context.Message is Fault<ModelRegistered> fault)
            {
                First.TrySetResult(fault);
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Test.Stop();
        await _provider.DisposeAsync();
    }
}
