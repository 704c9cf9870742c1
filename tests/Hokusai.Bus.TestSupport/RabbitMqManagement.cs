using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.Operations;

namespace Hokusai.Bus.TestSupport;

/// <summary>A message as the management API shows it: payload as text, properties and headers.</summary>
public sealed record QueuedMessage(string Payload, JsonObject Properties)
{
    public string? Header(string name) => Properties["headers"]?[name]?.ToString();
}

/// <summary>
/// A throwaway virtual host per test on the private test node (so durable queues of one test never meet another's), read and
/// written through the same <see cref="ManagementApi"/> the CLI operates queues with.
/// </summary>
public sealed class RabbitMqManagement : IAsyncDisposable
{
        private readonly ManagementApi _api;

    private RabbitMqManagement(string vhost) =>
        _api = new ManagementApi(Services.ManagementUrl, "guest", "guest", vhost, TimeSpan.FromSeconds(30));

    public string VirtualHost => _api.VirtualHost;

    /// <summary>amqp URL of the virtual host, for RABBITMQ_URL.</summary>
    public Uri AmqpUrl => Services.AmqpUrl(VirtualHost);

    public static async Task<RabbitMqManagement> CreateVirtualHostAsync(string prefix = "hokusai-test")
    {
        var management = new RabbitMqManagement($"{prefix}-{Guid.NewGuid():N}");
        await management._api.CreateVirtualHostAsync("guest");
        return management;
    }

    /// <summary>Publishes raw bytes to an exchange, as a Python producer with pika would.</summary>
    public async Task PublishAsync(
        string exchange, string payload, string? contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null)
    {
        if (!await _api.PublishAsync(exchange, Encoding.UTF8.GetBytes(payload), contentType, headers: headers))
        {
            throw new InvalidOperationException($"Exchange {exchange} routed the message nowhere (is the host's queue bound?).");
        }
    }

    /// <summary>Messages ready plus unacknowledged in a queue; 0 if it does not exist yet.</summary>
    public async Task<(long Ready, long Unacked)> DepthAsync(string queue) =>
        await _api.QueueAsync(queue) is { } json
            ? (json["messages_ready"]?.GetValue<long>() ?? 0, json["messages_unacknowledged"]?.GetValue<long>() ?? 0)
            : (0, 0);

    /// <summary>Consumers of a queue now, as the management UI's <em>Consumers</em> column shows; 0 if it does not exist.</summary>
    public async Task<long> ConsumersAsync(string queue) =>
        (await _api.QueueAsync(queue))?["consumers"]?.GetValue<long>() ?? 0;

    /// <summary>Every queue of the virtual host with its message count (ready plus unacknowledged).</summary>
    public Task<IReadOnlyDictionary<string, long>> QueuesAsync() => _api.QueuesAsync();

    /// <summary>The queue's type as RabbitMQ reports it: classic or quorum.</summary>
    public async Task<string?> QueueTypeAsync(string queue) => (await _api.QueueAsync(queue))?["type"]?.ToString();

    /// <summary>Whether an exchange exists (the host declares its topology when it starts).</summary>
    public Task<bool> ExchangeExistsAsync(string exchange) => _api.ExchangeExistsAsync(exchange);

    /// <summary>Reads up to <paramref name="count"/> messages and puts them back.</summary>
    public async Task<IReadOnlyList<QueuedMessage>> PeekAsync(string queue, int count = 100) =>
        (await _api.PeekAsync(queue, count, CancellationToken.None) ?? [])
            .Select(m => new QueuedMessage(m.Text, m.Properties)).ToList();

    /// <summary>
    /// Polls until <paramref name="condition"/> holds. The broker has no event to await over HTTP, so this is the one
    /// place tests poll, at a short interval and with a bound.
    /// </summary>
    public static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds} s: {what}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _api.DeleteVirtualHostAsync();
        }
        finally
        {
            _api.Dispose();
        }
    }
}
