using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>
/// The receiver library in a real host: TestSupport's <see cref="LoopbackServer"/> (Kestrel on 127.0.0.1) with
/// <c>MapHokusaiWebhook</c> at <see cref="Path"/>, a handler that records each registration and then does whatever
/// <see cref="OnHandle"/> says, and every log line kept in <see cref="Logs"/>.
/// </summary>
internal sealed class ReceiverHost : IAsyncDisposable
{
    public const string Path = "/api/models/ready";
    public const string Secret = "your_shared_secret_here";

    private readonly ConcurrentQueue<ModelRegistered> _handled = new();
    private LoopbackServer _server = null!;

    private ReceiverHost()
    {
    }

    /// <summary>Runs after the registration is recorded; throw to fail the delivery. Default: nothing.</summary>
    public Func<ModelRegistered, CancellationToken, Task> OnHandle { get; set; } = static (_, _) => Task.CompletedTask;

    /// <summary>Registrations the handler was called with, in order.</summary>
    public IReadOnlyList<ModelRegistered> Handled => _handled.ToArray();

    public LogSink Logs { get; private set; } = null!;

    public HttpClient Client { get; } = new();

    public Uri Url { get; private set; } = null!;

    public IServiceProvider Services => _server.Services;

    public static async Task<ReceiverHost> StartAsync(
        Action<HokusaiReceiverOptions>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var host = new ReceiverHost();
        host._server = await LoopbackServer.StartAsync(
            app => app.MapHokusaiWebhook(Path, async (registration, _, token) =>
            {
                host._handled.Enqueue(registration);
                await host.OnHandle(registration, token);
            }),
            builder =>
            {
                builder.Logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug);
                services?.Invoke(builder.Services);
                builder.Services.AddHokusaiWebhookReceiver(o =>
                {
                    o.Secret = Secret;
                    configure?.Invoke(o);
                });
            });
        host.Logs = new LogSink(host._server.Services.GetFakeLogCollector());
        host.Url = host._server.At(Path);
        return host;
    }

    /// <summary>POSTs <paramref name="body"/> as it is, with <paramref name="headers"/> (name, value; a name may repeat).</summary>
    public Task<HttpResponseMessage> PostAsync(byte[] body, params (string Name, string Value)[] headers) =>
        PostAsync(new ByteArrayContent(body), headers);

    public async Task<HttpResponseMessage> PostAsync(HttpContent content, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = content };
        content.Headers.ContentType = new("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>POSTs <paramref name="body"/> signed the guide's way (bare hex) with <paramref name="secret"/>.</summary>
    public Task<HttpResponseMessage> PostSignedAsync(byte[] body, string secret = Secret) =>
        PostAsync(body, (WebhookHeaders.Signature, new WebhookSigner(secret).Sign(body)));

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        return _server.DisposeAsync();
    }
}

/// <summary>Bodies and headers for tests.</summary>
internal static class Deliveries
{
    /// <summary>A valid registration with a fresh idempotency key, serialized as the sender does.</summary>
    public static byte[] NewBody(string? key = null) => ModelRegisteredJson.Serialize(NewRegistration(key));

    public static ModelRegistered NewRegistration(string? key = null) => new()
    {
        ModelId = "model_abc123",
        IdempotencyKey = key ?? Guid.NewGuid().ToString(),
        RegisteredVersion = "1",
        Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
        TokenSymbol = "TOKEN_ABC",
        BaselineMetrics = new Dictionary<string, double> { ["accuracy"] = 0.85, ["f1_score"] = 0.82 },
        Metadata = new ModelMetadata { ModelName = "sentiment-analyzer", MlflowRunId = "run_xyz789" },
    };

    /// <summary>The X-Hokusai-Signature header for <paramref name="body"/>.</summary>
    public static (string, string) Hokusai(byte[] body, string secret = ReceiverHost.Secret) =>
        (WebhookHeaders.Signature, new WebhookSigner(secret).Sign(body));

    /// <summary>The three Standard Webhooks headers for <paramref name="body"/> sent at <paramref name="at"/>.</summary>
    public static (string, string)[] Standard(byte[] body, DateTimeOffset at, string id = "msg_test", params string[] secrets) =>
    [
        (StandardWebhookHeaders.Id, id),
        (StandardWebhookHeaders.Timestamp, StandardWebhookHeaders.FormatTimestamp(at)),
        (StandardWebhookHeaders.Signature,
            new StandardWebhookSigner(secrets.Length == 0 ? [ReceiverHost.Secret] : secrets).Sign(id, at, body)),
    ];

    /// <summary>The response body's one property.</summary>
    public static async Task<string?> JsonValue(HttpResponseMessage response, string property)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?[property]?.GetValue<string>();
    }
}

/// <summary>The receiver's log lines as text, from Microsoft.Extensions.Diagnostics.Testing's fake logger.</summary>
internal sealed class LogSink(FakeLogCollector collector)
{
    /// <summary>Each record as <c>level category[event id]: message exception</c>.</summary>
    public IReadOnlyList<string> Lines =>
        [.. collector.GetSnapshot().Select(r => $"{r.Level} {r.Category}[{r.Id.Id}]: {r.Message} {r.Exception}")];
}

/// <summary>An <see cref="IIdempotencyStore"/> wrapper that tells when a claim was released.</summary>
internal sealed class ObservedStore(IIdempotencyStore inner) : IIdempotencyStore
{
    private readonly ConcurrentQueue<TaskCompletionSource<string>> _releases = new();

    public Func<string, Exception?> FailClaim { get; set; } = static _ => null;

    /// <summary>Completes with the key at the next release.</summary>
    public Task<string> NextRelease()
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _releases.Enqueue(done);
        return done.Task;
    }

    public ValueTask<IdempotencyClaimResult> TryClaimAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken = default) =>
        FailClaim(key) is { } error ? ValueTask.FromException<IdempotencyClaimResult>(error) : inner.TryClaimAsync(key, owner, lease, cancellationToken);

    public ValueTask MarkProcessedAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        inner.MarkProcessedAsync(key, ttl, cancellationToken);

    public async ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        await inner.ReleaseAsync(key, owner, cancellationToken);
        while (_releases.TryDequeue(out var waiter))
        {
            waiter.TrySetResult(key);
        }
    }
}
