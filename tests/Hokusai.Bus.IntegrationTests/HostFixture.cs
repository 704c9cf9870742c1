using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>One scenario's real parts: a throwaway RabbitMQ virtual host, a Kestrel receiver, and host processes.</summary>
internal sealed class Scenario : IAsyncDisposable
{
    public const string Secret = "integration-secret-never-logged";
    public const string Exchange = "Hokusai.Bus.Contracts:ModelRegistered";
    public const string Queue = "hokusai-webhook-delivery";
    public const string ErrorQueue = "hokusai-webhook-delivery_error";

    private readonly List<HostProcess> _hosts = [];

    private Scenario(RabbitMqManagement rabbit, WebhookReceiver receiver)
    {
        Rabbit = rabbit;
        Receiver = receiver;
    }

    public RabbitMqManagement Rabbit { get; }

    public WebhookReceiver Receiver { get; }

    public static async Task<Scenario> StartAsync() =>
        new(await RabbitMqManagement.CreateVirtualHostAsync(), await WebhookReceiver.StartAsync(Secret));

    /// <summary>Starts a host with fast test delays; <paramref name="settings"/> override them.</summary>
    public async Task<HostProcess> StartHostAsync(IDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = Rabbit.AmqpUrl.ToString(),
            ["WEBHOOK_URL"] = Receiver.Url.ToString(),
            ["WEBHOOK_SECRET"] = Secret,
            ["WEBHOOK_RETRY_DELAY"] = "0.05",
            ["WEBHOOK_TIMEOUT"] = "5",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var host = await HostProcess.StartAsync(environment);
        _hosts.Add(host);
        return host;
    }

    public Task PublishAsync(string json, string? contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null) =>
        Rabbit.PublishAsync(Exchange, json, contentType, headers);

    public async Task<IReadOnlyList<QueuedMessage>> ErrorsAsync() => await Rabbit.PeekAsync(ErrorQueue);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await Receiver.DisposeAsync();
        await Rabbit.DisposeAsync();
    }
}

internal static class Payloads
{
    /// <summary>A registration as the Python pipeline publishes it: bare JSON, snake_case, no envelope.</summary>
    public static string Registration(string? key = null, string modelId = "model_abc123") =>
        """
        {"model_id": "MODEL", "idempotency_key": "KEY", "registered_version": "1",
         "timestamp": "2024-01-15T10:30:00Z", "token_symbol": "TOKEN_ABC",
         "baseline_metrics": {"accuracy": 0.85, "f1_score": 0.82},
         "metadata": {"model_name": "sentiment-analyzer", "mlflow_run_id": "run_xyz789",
                      "contributor_address": "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb",
                      "experiment_name": "production-models", "tags": {"environment": "production"}}}
        """.Replace("MODEL", modelId, StringComparison.Ordinal)
            .Replace("KEY", key ?? Guid.NewGuid().ToString(), StringComparison.Ordinal);
}
