using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hokusai.Bus.Operations;

/// <summary>
/// The parts of RabbitMQ's management HTTP API that operating Hokusai queues needs, for one virtual host: queues as ops
/// see them in the management UI, messages read without consuming them, publishing as a non-.NET producer does, and
/// the shovels <c>dead-letters replay</c> moves messages with. Failures throw <see cref="ManagementApiException"/>.
/// </summary>
public sealed class ManagementApi : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _vhost;

    public ManagementApi(Uri management, string user, string password, string vhost, TimeSpan timeout)
    {
        var api = new Uri(management.ToString().TrimEnd('/') + "/api/");
        _http = new HttpClient { BaseAddress = api, Timeout = timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        _vhost = Uri.EscapeDataString(vhost);
        VirtualHost = vhost;
    }

    public string VirtualHost { get; }

    /// <summary>Creates the virtual host and gives <paramref name="user"/> full permissions on it.</summary>
    public async Task CreateVirtualHostAsync(string user, CancellationToken cancellationToken = default)
    {
        using (var created = await _http.PutAsync($"vhosts/{_vhost}", null, cancellationToken).ConfigureAwait(false))
        {
            await EnsureAsync(created, $"create virtual host {VirtualHost}", cancellationToken).ConfigureAwait(false);
        }

        using var permitted = await _http.PutAsJsonAsync($"permissions/{_vhost}/{Uri.EscapeDataString(user)}",
            new { configure = ".*", write = ".*", read = ".*" }, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(permitted, $"set permissions on {VirtualHost}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the virtual host exists (<c>GET /api/vhosts/{vhost}</c>): the API answers a missing one only with
    /// <c>401 not_authorised</c> to every other call, which names nothing.
    /// </summary>
    public async Task<bool> VirtualHostExistsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync($"vhosts/{_vhost}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, $"read virtual host {VirtualHost}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes the virtual host with everything in it.</summary>
    public async Task DeleteVirtualHostAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.DeleteAsync($"vhosts/{_vhost}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> to an exchange, persistent, as a Python producer with pika would, with
    /// <paramref name="headers"/> when given (a <c>traceparent</c>, for one).
    /// Returns whether the exchange routed it to any queue.
    /// </summary>
    public async Task<bool> PublishAsync(
        string exchange, byte[] payload, string? contentType, IReadOnlyDictionary<string, string>? headers = null,
        CancellationToken cancellationToken = default)
    {
        var properties = new Dictionary<string, object> { ["delivery_mode"] = 2 };
        if (contentType is not null)
        {
            properties["content_type"] = contentType;
        }

        if (headers is not null)
        {
            properties["headers"] = headers;
        }

        using var response = await _http.PostAsJsonAsync($"exchanges/{_vhost}/{Uri.EscapeDataString(exchange)}/publish", new
        {
            properties,
            routing_key = "",
            payload = Convert.ToBase64String(payload),
            payload_encoding = "base64",
        }, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, $"publish to {exchange}", cancellationToken).ConfigureAwait(false);
        var result = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false);
        return result?["routed"]?.GetValue<bool>() == true;
    }

    /// <summary>The queue as <c>GET /api/queues/{vhost}/{queue}</c> shows it (statistics lag by seconds), or null.</summary>
    public async Task<JsonObject?> QueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync($"queues/{_vhost}/{Uri.EscapeDataString(queue)}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"GET queue {queue}", cancellationToken).ConfigureAwait(false);
        return LastWins(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// A JSON object whose keys may repeat, the last one kept: RabbitMQ 3.10 writes <c>"online"</c> twice for a quorum
    /// queue while one of its members is down, and has written <c>"node"</c> twice in a queue listing (a CI run of
    /// <c>EndpointsTests</c>), which <see cref="JsonObject"/> refuses.
    /// </summary>
    private static JsonObject? LastWins(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object ? LastWins(document.RootElement) : null;
    }

    private static JsonObject LastWins(JsonElement element)
    {
        var result = new JsonObject();
        foreach (var property in element.EnumerateObject())
        {
            result[property.Name] = JsonNode.Parse(property.Value.GetRawText());
        }

        return result;
    }

    /// <summary>Every queue of the virtual host with its message count (ready plus unacknowledged).</summary>
    public async Task<IReadOnlyDictionary<string, long>> QueuesAsync(CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync($"queues/{_vhost}", cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, "list queues", cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        return document.RootElement.EnumerateArray().Select(LastWins)
            .ToDictionary(q => q["name"]!.GetValue<string>(), q => q["messages"]?.GetValue<long>() ?? 0);
    }

    /// <summary>Whether the exchange exists.</summary>
    public async Task<bool> ExchangeExistsAsync(string exchange, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync($"exchanges/{_vhost}/{Uri.EscapeDataString(exchange)}", cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>Whether the queue exists.</summary>
    public async Task<bool> QueueExistsAsync(string queue, CancellationToken cancellationToken) =>
        await QueueAsync(queue, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Up to <paramref name="count"/> messages from the head of the queue, each put back (<c>ack_requeue_true</c>):
    /// nothing is consumed. Null when the queue does not exist.
    /// </summary>
    public async Task<IReadOnlyList<PeekedMessage>?> PeekAsync(string queue, int count, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"queues/{_vhost}/{Uri.EscapeDataString(queue)}/get", new
        {
            count,
            ackmode = "ack_requeue_true",
            encoding = "base64",
            truncate = 4 * 1024 * 1024,
        }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"get messages from {queue}", cancellationToken).ConfigureAwait(false);
        var items = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken).ConfigureAwait(false) ?? [];
        return items.Select(item => new PeekedMessage(
            Convert.FromBase64String(item?["payload"]?.GetValue<string>() ?? ""),
            item?["properties"] as JsonObject ?? [],
            item?["redelivered"]?.GetValue<bool>() ?? false)).ToList();
    }

    /// <summary>
    /// The exact number of ready messages now: the <c>message_count</c> that a one-message get reports (the
    /// statistics of <c>GET /api/queues</c> lag by seconds). The message is put back. Null when the queue does not exist.
    /// </summary>
    public async Task<long?> ReadyCountAsync(string queue, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"queues/{_vhost}/{Uri.EscapeDataString(queue)}/get", new
        {
            count = 1,
            ackmode = "ack_requeue_true",
            encoding = "auto",
            truncate = 1,
        }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"count messages in {queue}", cancellationToken).ConfigureAwait(false);
        var items = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken).ConfigureAwait(false) ?? [];
        return items.Count == 0 ? 0 : (items[0]?["message_count"]?.GetValue<long>() ?? 0) + 1;
    }

    /// <summary>Creates a dynamic shovel (<c>PUT /api/parameters/shovel/{vhost}/{name}</c>).</summary>
    public async Task CreateShovelAsync(string name, JsonObject value, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsJsonAsync(
            $"parameters/shovel/{_vhost}/{Uri.EscapeDataString(name)}", new JsonObject { ["value"] = value }, cancellationToken)
            .ConfigureAwait(false);
        await EnsureAsync(response, $"create shovel {name} (is the rabbitmq_shovel plugin enabled?)", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the shovel's parameter still exists (a shovel with src-delete-after removes it when done).</summary>
    public async Task<bool> ShovelExistsAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await GetAsync($"parameters/shovel/{_vhost}/{Uri.EscapeDataString(name)}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, $"read shovel {name}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The shovel's state and reason from <c>GET /api/shovels/{vhost}</c>, e.g. ("terminated", "..."), or null.</summary>
    public async Task<(string State, string? Reason)?> ShovelStatusAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await GetAsync($"shovels/{_vhost}", cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var shovels = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken).ConfigureAwait(false) ?? [];
        var shovel = shovels.FirstOrDefault(s => s?["name"]?.ToString() == name);
        return shovel is null ? null : (shovel["state"]?.ToString() ?? "unknown", shovel["reason"]?.ToString());
    }

    /// <summary>Deletes the shovel if it is still there.</summary>
    public async Task DeleteShovelAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync($"parameters/shovel/{_vhost}/{Uri.EscapeDataString(name)}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureAsync(response, $"delete shovel {name}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The waits, in milliseconds, before asking a GET that got 500 again.</summary>
    private static readonly int[] ServerErrorWaits = [100, 400, 1000];

    /// <summary>
    /// A GET, asked again up to 3 times over about 1.5 s while the API answers 500: RabbitMQ 3.10's management API fails a
    /// queue listing while a stream in the virtual host is still starting (its leader not yet known; the node logs
    /// <c>node(none)</c>), as when a host writes its first delivery-log record.
    /// </summary>
    private async Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken)
    {
        foreach (var wait in ServerErrorWaits)
        {
            var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.InternalServerError)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }

        return await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var reason = body.Length > 300 ? body[..300] + "..." : body;
        throw new ManagementApiException($"{what}: HTTP {(int)response.StatusCode} ({response.StatusCode}) {reason}".TrimEnd());
    }
}
