using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// One delivery, start to end: read the raw body (bounded), verify every signature present over those exact bytes,
/// parse and validate, claim the idempotency key, run the handler, mark the key processed (or release it on failure).
/// </summary>
internal sealed class WebhookReceiverEndpoint
{
    private const int MaxReasonLength = 200;

    private static readonly byte[] Success = Json("status", "success");
    private static readonly byte[] AlreadyProcessed = Json("status", "already_processed");
    private static readonly byte[] InvalidSignature = Json("error", "invalid signature");
    private static readonly byte[] TooLarge = Json("error", "body too large");
    private static readonly byte[] InProgress = Json("error", "already in progress; retry later");
    private static readonly byte[] StoreUnavailable = Json("error", "idempotency store unavailable; retry later");
    private static readonly byte[] HandlerFailed = Json("error", "handler failed");

    private readonly HokusaiReceiverOptions _options;
    private readonly HokusaiWebhook _webhook;
    private readonly IIdempotencyStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IWebhookReceiptListener[] _listeners;

    public WebhookReceiverEndpoint(
        IOptions<HokusaiReceiverOptions> options,
        IIdempotencyStore store,
        TimeProvider time,
        ILogger<WebhookReceiverEndpoint> logger,
        IEnumerable<IWebhookReceiptListener> listeners)
    {
        _listeners = [.. listeners];
        _options = options.Value;
        _webhook = new HokusaiWebhook(_options.AllSecrets(), _options.RequireStandardWebhooks, time: time);
        _store = store;
        _time = time;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context, Func<ModelRegistered, HttpContext, CancellationToken, Task> handler)
    {
        using var activity = ReceiveActivity.Start(context);
        var request = context.Request;
        var path = request.Path.Value ?? "/";

        var (body, failure) = await ReadBodyAsync(context, _options.MaxBodyBytes).ConfigureAwait(false);
        if (failure == ReadFailure.TooLarge)
        {
            Log.BodyTooLarge(_logger, path, context.Connection.RemoteIpAddress?.ToString(), _options.MaxBodyBytes);
            ReportRefusal(WebhookReceiptKind.TooLarge, StatusCodes.Status413PayloadTooLarge, $"body over {_options.MaxBodyBytes} bytes");
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge).ConfigureAwait(false);
            return;
        }

        if (failure != ReadFailure.None)
        {
            return; // the sender went away or sent a broken body; the server has answered or closed the connection
        }

        if (Authenticate(request, body.AsSpan()) is { } refusal)
        {
            Log.SignatureRejected(_logger, path, context.Connection.RemoteIpAddress?.ToString(), refusal);
            ReportRefusal(WebhookReceiptKind.InvalidSignature, StatusCodes.Status401Unauthorized, refusal);
            await WriteAsync(context, StatusCodes.Status401Unauthorized, InvalidSignature).ConfigureAwait(false);
            return;
        }

        if (Parse(body.AsSpan(), out var registration) is { } invalid)
        {
            Log.InvalidBody(_logger, path, invalid);
            ReportRefusal(WebhookReceiptKind.Invalid, StatusCodes.Status400BadRequest, invalid);
            await WriteAsync(context, StatusCodes.Status400BadRequest, Json("error", invalid)).ConfigureAwait(false);
            return;
        }

        await ProcessAsync(context, registration!, handler).ConfigureAwait(false);
    }

    /// <summary>Null when every signature the delivery must carry verifies; else why not (never a signature value).</summary>
    private string? Authenticate(HttpRequest request, ReadOnlySpan<byte> body) =>
        _webhook.Verify(body, name => Header(request, name)).Reason;

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

    private enum ReadFailure
    {
        None,
        TooLarge,
        Broken,
    }

    /// <summary>The exact body bytes, or why not. Stops reading at <paramref name="limit"/> + 1 bytes.</summary>
    private static async Task<(ArraySegment<byte> Body, ReadFailure Failure)> ReadBodyAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (default, ReadFailure.TooLarge);
        }

        // MaxBodyBytes is this endpoint's limit, in place of the server's (30 MB by default in Kestrel): the loop below
        // stops reading right after it. (Kestrel's own check counts a chunked body differently, off by a few bytes.)
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 16 * 1024, limit));
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return (default, ReadFailure.TooLarge);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, ReadFailure.TooLarge);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return (default, ReadFailure.Broken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return (buffer.TryGetBuffer(out var segment) ? segment : buffer.ToArray(), ReadFailure.None);
    }

    /// <summary>A header's values joined by spaces (several <c>webhook-signature</c> lines are one list), or null.</summary>
    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count > 0
            ? values.Count == 1 ? values[0] : string.Join(' ', values.ToArray())
            : null;

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
