using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// One delivery, start to end: read the raw body and verify every signature present over those exact bytes
/// (<see cref="SignedRequestReader"/>, as the host's <c>/ingest</c> does), tell its shape and read it
/// (<see cref="WebhookBodyReader"/>), claim the idempotency key, run the handler, mark the key processed (or release it on failure).
/// </summary>
internal sealed class WebhookReceiverEndpoint
{
    private static readonly byte[] Success = Json("status", "success");
    private static readonly byte[] AlreadyProcessed = Json("status", "already_processed");
    private static readonly byte[] InvalidSignature = Json("error", "invalid signature");
    private static readonly byte[] TooLarge = Json("error", "body too large");
    private static readonly byte[] TooSlow = Json("error", "body too slow");
    private static readonly byte[] Replayed = Json("error", "nonce already used");
    private static readonly byte[] Malformed = Json("error", "malformed body");
    private static readonly byte[] InProgress = Json("error", "already in progress; retry later");
    private static readonly byte[] StoreUnavailable = Json("error", "idempotency store unavailable; retry later");
    private static readonly byte[] HandlerFailed = Json("error", "handler failed");

    private readonly HokusaiReceiverOptions _options;
    private readonly SignedRequestReader _reader;
    private readonly IIdempotencyStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IWebhookReceiptListener[] _listeners;

    public WebhookReceiverEndpoint(
        IOptions<HokusaiReceiverOptions> options,
        IIdempotencyStore store,
        NonceMemory nonces,
        TimeProvider time,
        ILogger<WebhookReceiverEndpoint> logger,
        IEnumerable<IWebhookReceiptListener> listeners)
    {
        _listeners = [.. listeners];
        _options = options.Value;
        _reader = new SignedRequestReader(
            new HokusaiWebhook(_options.AllSecrets(), _options.RequireStandardWebhooks, time: time),
            new SignedRequestLimits(_options.MaxBodyBytes, _options.BodyTimeout), nonces);
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary><c>MapHokusaiWebhook</c>: registrations (the guide's, and the MLflow event with <see cref="HokusaiReceiverOptions.AcceptMlflowEvent"/>).</summary>
    public Task HandleAsync(HttpContext context, Func<ModelRegistered, HttpContext, CancellationToken, Task> handler) =>
        HandleAsync(context, events: false, (read, _, http, token) => handler(read.Registration!, http, token));

    /// <summary><c>MapHokusaiWebhookEvents</c>: every shape the host delivers, as a <see cref="PipelineEvent"/> with the exact bytes.</summary>
    public Task HandleEventsAsync(HttpContext context, Func<PipelineEvent, HttpContext, CancellationToken, Task> handler) =>
        HandleAsync(context, events: true, (read, body, http, token) => handler(new PipelineEvent
        {
            EventType = read.EventType,
            Shape = read.Shape,
            Body = body.ToArray(),
            ModelId = read.ModelId,
            ReceivedAt = _time.GetUtcNow(),
            IdempotencyKey = read.IdempotencyKey,
        }, http, token));

    private async Task HandleAsync(
        HttpContext context, bool events, Func<WebhookBodyRead, ReadOnlyMemory<byte>, HttpContext, CancellationToken, Task> handler)
    {
        using var activity = ReceiveActivity.Start(context);
        var path = context.Request.Path.Value ?? "/";

        using var request = await _reader.ReadAsync(context).ConfigureAwait(false);
        if (request.Abandoned)
        {
            return; // the sender went away; there is no one to answer
        }

        if (request.Refusal is { } refusal)
        {
            var remote = context.Connection.RemoteIpAddress?.ToString();
            var (kind, answer) = refusal.Reason switch
            {
                SignedRequestRefusal.Signature => (WebhookReceiptKind.InvalidSignature, InvalidSignature),
                SignedRequestRefusal.Size => (WebhookReceiptKind.TooLarge, TooLarge),
                SignedRequestRefusal.SlowBody => (WebhookReceiptKind.Invalid, TooSlow),
                SignedRequestRefusal.Replay => (WebhookReceiptKind.InvalidSignature, Replayed),
                _ => (WebhookReceiptKind.Invalid, Malformed),
            };
            Log.Refused(_logger, path, remote, refusal.Status, refusal.Detail);
            ReportRefusal(kind, refusal.Status, refusal.Detail);
            if (!context.Response.HasStarted)
            {
                refusal.Prepare(context.Response);
                await WriteAsync(context, refusal.Status, answer).ConfigureAwait(false);
            }

            return;
        }

        var read = WebhookBodyReader.Read(request.Body.Span, request.SignedWithNonce, mlflow: events || _options.AcceptMlflowEvent, deltaOne: events);
        if (read.Reason is { } invalid)
        {
            // A DeltaOne event signed without its timestamp and nonce is a signature problem (401), as on /ingest.
            var unsigned = read.Status == StatusCodes.Status401Unauthorized;
            Log.InvalidBody(_logger, path, read.Status, invalid);
            ReportRefusal(unsigned ? WebhookReceiptKind.InvalidSignature : WebhookReceiptKind.Invalid, read.Status, invalid);
            await WriteAsync(context, read.Status, unsigned ? InvalidSignature : Json("error", invalid)).ConfigureAwait(false);
            return;
        }

        var body = request.Body;
        await ProcessAsync(context, read, (http, token) => handler(read, body, http, token)).ConfigureAwait(false);
    }

    private async Task ProcessAsync(HttpContext context, WebhookBodyRead read, Func<HttpContext, CancellationToken, Task> handler)
    {
        var key = read.IdempotencyKey;
        var owner = Guid.NewGuid().ToString("N");
        var aborted = context.RequestAborted;

        IdempotencyClaimResult claim;
        try
        {
            claim = await _store.TryClaimAsync(key, owner, _options.ClaimLeaseTime, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.StoreUnavailable(_logger, ex, key);
            Report(WebhookReceiptKind.StoreUnavailable, StatusCodes.Status503ServiceUnavailable, read, "idempotency store unavailable");
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, StoreUnavailable).ConfigureAwait(false);
            return;
        }

        if (claim == IdempotencyClaimResult.AlreadyProcessed)
        {
            Log.Duplicate(_logger, key);
            Report(WebhookReceiptKind.Duplicate, StatusCodes.Status200OK, read, null);
            await WriteAsync(context, StatusCodes.Status200OK, AlreadyProcessed).ConfigureAwait(false);
            return;
        }

        if (claim == IdempotencyClaimResult.InProgress)
        {
            // Not 2xx: if the request holding the claim fails, the sender must still retry this one.
            Log.InProgress(_logger, key);
            Report(WebhookReceiptKind.InProgress, StatusCodes.Status409Conflict, read, "already in progress");
            await WriteAsync(context, StatusCodes.Status409Conflict, InProgress).ConfigureAwait(false);
            return;
        }

        var started = _time.GetTimestamp();
        try
        {
            await handler(context, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            await ReleaseAsync(key, owner).ConfigureAwait(false);
            Log.Aborted(_logger, key);
            return;
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, ex, key);
            await ReleaseAsync(key, owner).ConfigureAwait(false);
            Report(WebhookReceiptKind.HandlerFailed, StatusCodes.Status500InternalServerError, read, "handler failed: " + ex.GetType().Name);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, HandlerFailed).ConfigureAwait(false);
            return;
        }

        try
        {
            await _store.MarkProcessedAsync(key, _options.IdempotencyKeyTtl, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The work is done: answer success so the sender does not run it again now.
            Log.MarkFailed(_logger, ex, key);
        }

        Log.Processed(_logger, SafeText.Of(read.EventType, 60), key, read.ModelId is { } model ? SafeText.Of(model, 100) : "-",
            _time.GetElapsedTime(started).TotalMilliseconds);
        Report(WebhookReceiptKind.Processed, StatusCodes.Status200OK, read, null);
        await WriteAsync(context, StatusCodes.Status200OK, Success).ConfigureAwait(false);
    }

    /// <summary>A delivery whose body was read, under the key read from it.</summary>
    private void Report(WebhookReceiptKind kind, int status, WebhookBodyRead read, string? reason) =>
        Report(new WebhookReceipt(kind, status, read.IdempotencyKey, read.ModelId, reason) { EventType = read.EventType, Shape = read.Shape });

    /// <summary>A refusal before the body was parsed: no key or model id to report yet.</summary>
    private void ReportRefusal(WebhookReceiptKind kind, int status, string reason) =>
        Report(new WebhookReceipt(kind, status, null, null, reason));

    private void Report(WebhookReceipt receipt)
    {
        foreach (var listener in _listeners)
        {
            listener.Write(receipt);
        }
    }

    private async Task ReleaseAsync(string key, string owner)
    {
        try
        {
            await _store.ReleaseAsync(key, owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ReleaseFailed(_logger, ex, key);
        }
    }

    private static byte[] Json(string property, string value)
    {
        var output = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString(property, value);
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, int status, byte[] json)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return; // the handler answered itself
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json).ConfigureAwait(false);
    }
}
