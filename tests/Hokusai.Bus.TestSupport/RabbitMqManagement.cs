using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hokusai.Bus.TestSupport;

/// <summary>A message as the management API shows it: payload, properties and headers.</summary>
public sealed record QueuedMessage(string Payload, JsonObject Properties)
{
    public string? Header(string name) => Properties["headers"]?[name]?.ToString();
}

/// <summary>
/// RabbitMQ's management HTTP API on 127.0.0.1:15672: a throwaway virtual host per test (so durable queues of one
/// test never meet another's), publishing as a non-.NET producer would, and reading queues as ops see them.
/// </summary>
public sealed class RabbitMqManagement : IAsyncDisposable
{
    private static readonly Uri Api = new("http://127.0.0.1:15672/api/");
    private readonly HttpClient _http;

    private RabbitMqManagement(string vhost)
    {
        VirtualHost = vhost;
        _http = new HttpClient { BaseAddress = Api, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
    }

    public string VirtualHost { get; }

    /// <summary>amqp URL of the virtual host, for RABBITMQ_URL.</summary>
    public Uri AmqpUrl => new($"amqp://guest:guest@127.0.0.1:5672/{Uri.EscapeDataString(VirtualHost)}");

    private string V => Uri.EscapeDataString(VirtualHost);

    public static async Task<RabbitMqManagement> CreateVirtualHostAsync(string prefix = "hokusai-test")
    {
        var management = new RabbitMqManagement($"{prefix}-{Guid.NewGuid():N}");
        (await management._http.PutAsync($"vhosts/{management.V}", null)).EnsureSuccessStatusCode();
        (await management._http.PutAsJsonAsync($"permissions/{management.V}/guest",
            new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        return management;
    }

    /// <summary>Publishes raw bytes to an exchange, as a Python producer with pika would.</summary>
    public async Task PublishAsync(string exchange, string payload, string? contentType = "application/json")
    {
        var properties = new Dictionary<string, object> { ["delivery_mode"] = 2 };
        if (contentType is not null)
        {
            properties["content_type"] = contentType;
        }

        var response = await _http.PostAsJsonAsync($"exchanges/{V}/{Uri.EscapeDataString(exchange)}/publish", new
        {
            properties,
            routing_key = "",
            payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)),
            payload_encoding = "base64",
        });
        response.EnsureSuccessStatusCode();
        var routed = (await response.Content.ReadFromJsonAsync<JsonObject>())?["routed"]?.GetValue<bool>();
        if (routed != true)
        {
            throw new InvalidOperationException($"Exchange {exchange} routed the message nowhere (is the host's queue bound?).");
        }
    }

    /// <summary>Messages ready plus unacknowledged in a queue; 0 if it does not exist yet.</summary>
    public async Task<(long Ready, long Unacked)> DepthAsync(string queue)
    {
        var response = await _http.GetAsync($"queues/{V}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return (0, 0);
        }

        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (json?["messages_ready"]?.GetValue<long>() ?? 0, json?["messages_unacknowledged"]?.GetValue<long>() ?? 0);
    }

    /// <summary>Every queue of the virtual host with its message count (ready plus unacknowledged).</summary>
    public async Task<IReadOnlyDictionary<string, long>> QueuesAsync()
    {
        var queues = await _http.GetFromJsonAsync<JsonArray>($"queues/{V}") ?? [];
        return queues.ToDictionary(q => q!["name"]!.GetValue<string>(), q => q!["messages"]?.GetValue<long>() ?? 0);
    }

    /// <summary>The queue's type as RabbitMQ reports it: classic or quorum.</summary>
    public async Task<string?> QueueTypeAsync(string queue) =>
        (await _http.GetFromJsonAsync<JsonObject>($"queues/{V}/{Uri.EscapeDataString(queue)}"))?["type"]?.ToString();

    /// <summary>Whether an exchange exists (the host declares its topology when it starts).</summary>
    public async Task<bool> ExchangeExistsAsync(string exchange) =>
        (await _http.GetAsync($"exchanges/{V}/{Uri.EscapeDataString(exchange)}")).IsSuccessStatusCode;

    /// <summary>Reads up to <paramref name="count"/> messages and puts them back.</summary>
    public async Task<IReadOnlyList<QueuedMessage>> PeekAsync(string queue, int count = 100)
    {
        var response = await _http.PostAsJsonAsync($"queues/{V}/{Uri.EscapeDataString(queue)}/get", new
        {
            count,
            ackmode = "ack_requeue_true",
            encoding = "auto",
            truncate = 1_000_000,
        });
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var items = await response.Content.ReadFromJsonAsync<JsonArray>() ?? [];
        return items.Select(i => new QueuedMessage(
            i!["payload"]!.GetValue<string>(),
            i["properties"] as JsonObject ?? [])).ToList();
    }

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
            await _http.DeleteAsync($"vhosts/{V}");
        }
        finally
        {
            _http.Dispose();
        }
    }
}
