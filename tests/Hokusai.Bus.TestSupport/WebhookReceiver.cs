using System.Collections.Concurrent;
using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Hokusai.Bus.TestSupport;

/// <summary>A request as the receiver saw it: raw body bytes and the headers that matter.</summary>
public sealed record ReceivedRequest(
    byte[] Body,
    string? Signature,
    string? IdempotencyKey,
    string? ContentType,
    string? UserAgent,
    bool SignatureValid,
    int StatusReturned,
    DateTimeOffset ReceivedAt)
{
    /// <summary>Every request header, first value each, by lowercase name.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A real webhook receiver on a <see cref="LoopbackServer"/>. It verifies the signature with the contracts' verifier
/// (a DeltaOne-signed request as the pipeline's <c>verify_signature</c> does, and more: a timestamp more than 5 minutes
/// from now, or a nonce it has seen before, is not valid),
/// records every request, answers with whatever <see cref="Respond"/> decides, and lets a test await the n-th request
/// or the n-th distinct idempotency key instead of sleeping.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HokusaiWebhook _verifier;
    private readonly ConcurrentDictionary<string, byte> _nonces = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _accepted = new();
    private readonly Recorded _recorded;
    private LoopbackServer _server = null!;
    private int _arrivals;

    private WebhookReceiver(string secret)
    {
        _verifier = new HokusaiWebhook(secret);
        _recorded = new Recorded(() => $"{RequestCount} requests, {_accepted.Count} distinct keys accepted");
    }

    /// <summary>Decides the status of each request; by default 200 for a valid signature, else 401.</summary>
    public Func<RequestInfo, ValueTask<Response>> Respond { get; set; } = static info =>
        ValueTask.FromResult(info.SignatureValid ? Response.Ok : new Response(401));

    /// <summary>The URL to POST to.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every request, in arrival order.</summary>
    public IReadOnlyCollection<ReceivedRequest> Requests => _requests.ToArray();

    /// <summary>Requests that have arrived, answered or not yet (one the receiver holds counts).</summary>
    public int Arrivals => Volatile.Read(ref _arrivals);

    /// <summary>Number of requests received.</summary>
    public int RequestCount => _requests.Count;

    /// <summary>Distinct idempotency keys answered with a 2xx.</summary>
    public IReadOnlyCollection<string> AcceptedKeys => _accepted.Keys.ToArray();

    /// <summary>How often each key was answered with a 2xx (more than once = a duplicate delivery).</summary>
    public IReadOnlyDictionary<string, int> AcceptedCounts => new Dictionary<string, int>(_accepted);

    /// <summary>Starts on an ephemeral port, or on <paramref name="port"/> for a test whose client has it fixed.</summary>
    public static async Task<WebhookReceiver> StartAsync(string secret, int port = 0)
    {
        var receiver = new WebhookReceiver(secret);
        receiver._server = await LoopbackServer.StartAsync(
            app => app.MapPost("/{**path}", receiver.HandleAsync),
            builder => builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 8 * 1024 * 1024),
            port);
        receiver.Url = receiver._server.At("api/models/ready");
        return receiver;
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked on every request; fails after <paramref name="timeout"/>.</summary>
    public Task WaitUntilAsync(Func<WebhookReceiver, bool> condition, TimeSpan timeout, string? what = null) =>
        _recorded.WaitAsync(() => condition(this), timeout, $"receiver: {what ?? "condition"}");

    /// <summary>Waits until <paramref name="count"/> requests have arrived.</summary>
    public Task WaitForRequestsAsync(int count, TimeSpan timeout) =>
        WaitUntilAsync(r => r.RequestCount >= count, timeout, $"{count} requests");

    /// <summary>Waits until <paramref name="count"/> distinct keys were accepted.</summary>
    public Task WaitForAcceptedAsync(int count, TimeSpan timeout) =>
        WaitUntilAsync(r => r._accepted.Count >= count, timeout, $"{count} distinct keys accepted");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var signature = context.Request.Headers[WebhookHeaders.Signature].ToString();
        var key = context.Request.Headers[WebhookHeaders.IdempotencyKey].ToString();
        var verification = _verifier.Verify(body, name => context.Request.Headers[name] is { Count: > 0 } v ? v.ToString() : null);
        var valid = verification.IsValid && (verification.Nonce is not { } nonce || _nonces.TryAdd(nonce, 0));
        // Numbered on arrival, not on recording: a delayed request is recorded only when it ends, and a retry that
        // arrives before that must still be number 2.
        var info = new RequestInfo(body, valid, key, Interlocked.Increment(ref _arrivals));

        var response = await Respond(info);
        if (response.Status == 0)
        {
            // "Down": the connection is dropped without an answer, as a crashed or unreachable receiver would.
            Record(body, signature, key, context, valid, 0);
            context.Abort();
            return;
        }

        if (response.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(response.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Record(body, signature, key, context, valid, 499);
                return;
            }
        }

        if (response.RetryAfterSeconds is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.StatusCode = response.Status;
        Record(body, signature, key, context, valid, response.Status);
        await context.Response.WriteAsync(response.Status is >= 200 and < 300 ? "{\"status\":\"success\"}" : "{\"error\":\"test\"}");
    }

    private void Record(byte[] body, string signature, string key, HttpContext context, bool valid, int status)
    {
        var request = new ReceivedRequest(body, signature, key, context.Request.ContentType,
            context.Request.Headers.UserAgent.ToString(), valid, status, DateTimeOffset.UtcNow)
        {
            Headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        };

        // One record for the request list and the accepted keys: a waiter released on "n accepted" sees all n
        // requests in Requests.
        _recorded.Record(() =>
        {
            _requests.Enqueue(request);
            if (status is >= 200 and < 300)
            {
                _accepted.AddOrUpdate(key, 1, static (_, n) => n + 1);
            }
        });
    }

    /// <summary>What a response decision can see.</summary>
    public sealed record RequestInfo(byte[] Body, bool SignatureValid, string IdempotencyKey, int Number);

    /// <summary>A scripted answer.</summary>
    public sealed record Response(int Status, TimeSpan Delay = default, int? RetryAfterSeconds = null)
    {
        public static Response Ok { get; } = new(200);

        /// <summary>Drop the connection without answering (a receiver that is down).</summary>
        public static Response Down { get; } = new(0);
    }
}
