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
/// (<see cref="SignedRequestReader"/>, as the host's <c>/ingest</c> does), parse and validate, claim the idempotency key, run the handler, mark the key processed (or release it on failure).
/// </summary>
internal sealed class WebhookReceiverEndpoint
{
    private const int MaxReasonLength = 200;

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

    public async Task HandleAsync(HttpContext context, Func<ModelRegistered, HttpContext, CancellationToken, Task> handler)
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

        if (Parse(request.Body.Span, out var registration) is { } invalid)
        {
            Log.InvalidBody(_logger, path, invalid);
            ReportRefusal(WebhookReceiptKind.Invalid, StatusCodes.Status400BadRequest, invalid);
            await WriteAsync(context, StatusCodes.Status400BadRequest, Json("error", invalid)).ConfigureAwait(false);
            return;
        }

        await ProcessAsync(context, registration!, handler).ConfigureAwait(false);
    }

    /// <summary>Null when <paramref name="body"/> is a deliverable registration; else a short reason for the sender.</summary>
    private static string? Parse(ReadOnlySpan<byte> body, out ModelRegistered? registration)
    {
        registration = null;
        try
        {
            registration = ModelRegisteredJson.Deserialize(body);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException
                                       or ArgumentException or FormatException or OverflowException)
        {
            if (!IsJson(body))
            {
                return "body is not valid JSON";
            }

            var detail = ex.Message.Length > MaxReasonLength ? ex.Message[..MaxReasonLength] + "..." : ex.Message;
            return "body is not a model registration: " + detail;
        }

        var errors = ModelRegisteredValidation.Validate(registration);
        return errors.Count == 0 ? null : "body is not a model registration: " + string.Join(" ", errors);
    }

    private async Task ProcessAsync(
        HttpContext context,
        ModelRegistered registration,
        Func<ModelRegistered, HttpContext, CancellationToken, Task> handler)
    {
        var key = IdempotencyKey.For(registration);
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
            Report(WebhookReceiptKind.StoreUnavailable, StatusCodes.Status503ServiceUnavailable, key, registration, "idempotency store unavailable");
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, StoreUnavailable).ConfigureAwait(false);
            return;
        }

        if (claim == IdempotencyClaimResult.AlreadyProcessed)
        {
            Log.Duplicate(_logger, key);
            Report(WebhookReceiptKind.Duplicate, StatusCodes.Status200OK, key, registration, null);
            await WriteAsync(context, StatusCodes.Status200OK, AlreadyProcessed).ConfigureAwait(false);
            return;
        }

        if (claim == IdempotencyClaimResult.InProgress)
        {
            // Not 2xx: if the request holding the claim fails, the sender must still retry this one.
            Log.InProgress(_logger, key);
            Report(WebhookReceiptKind.InProgress, StatusCodes.Status409Conflict, key, registration, "already in progress");
            await WriteAsync(context, StatusCodes.Status409Conflict, InProgress).ConfigureAwait(false);
            return;
        }

        var started = _time.GetTimestamp();
        try
        {
            await handler(registration, context, aborted).ConfigureAwait(false);
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
            Report(WebhookReceiptKind.HandlerFailed, StatusCodes.Status500InternalServerError, key, registration, "handler failed: " + ex.GetType().Name);
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

        Log.Processed(_logger, key, registration.ModelId, _time.GetElapsedTime(started).TotalMilliseconds);
        Report(WebhookReceiptKind.Processed, StatusCodes.Status200OK, key, registration, null);
        await WriteAsync(context, StatusCodes.Status200OK, Success).ConfigureAwait(false);
    }

    /// <summary>A delivery whose body parsed, under the key <see cref="ProcessAsync"/> derived once.</summary>
    private void Report(WebhookReceiptKind kind, int status, string key, ModelRegistered registration, string? reason) =>
        Report(new WebhookReceipt(kind, status, key, registration.ModelId, reason));

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

    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            var any = false;
            while (reader.Read())
            {
                any = true;
            }

            return any;
        }
        catch (JsonException)
        {
            return false;
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
