using System.Buffers;
using System.Diagnostics;
using Hokusai.Bus.Contracts;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>
/// <c>POST /ingest</c>: a signed registration over HTTP, published to RabbitMQ for the consumers to deliver, so a producer
/// that speaks only HTTP (the Python pipeline, with its <c>WEBHOOK_URL</c> pointed here) needs no other change. Answers
/// 2xx only once RabbitMQ has confirmed the publish; every refusal says why in one sentence.
/// </summary>
internal sealed class IngestEndpoint(
    Microsoft.Extensions.Options.IOptions<IngestOptions> ingestOptions,
    IBus bus,
    IngestMetrics metrics,
    TimeProvider time,
    ILogger<IngestEndpoint> logger)
{
    public const string Path = "/ingest";

    /// <summary>The ingest span's source: the span continues an incoming W3C <c>traceparent</c>.</summary>
    public const string ActivitySourceName = "Hokusai.Bus.Ingest";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private const string DeltaOneTimestampHeader = "X-Hokusai-Timestamp";
    private const string DeltaOneNonceHeader = "X-Hokusai-Nonce";

    private readonly IngestOptions _options = ingestOptions.Value;

    private readonly HokusaiWebhook _verifier = new([ingestOptions.Value.Secret!, .. ingestOptions.Value.RotationSecrets]);

    public async Task HandleAsync(HttpContext context)
    {
        using var activity = StartActivity(context.Request);
        var (body, length, refusal) = await ReadBodyAsync(context).ConfigureAwait(false);
        try
        {
            if (refusal is { } early)
            {
                await RefuseAsync(context, early.Status, early.Reason, early.Detail).ConfigureAwait(false);
                return;
            }

            var span = body.AsSpan(0, length);
            var verification = _verifier.Verify(span, name => context.Request.Headers[name] is { Count: > 0 } value ? value.ToString() : null);
            if (!verification.IsValid)
            {
                // The pipeline's deltaone.* events are signed over "<timestamp>.<nonce>.<body>" with these two headers:
                // say what reached /ingest, so the fix (DELTAONE_WEBHOOK_ENDPOINTS) is found without reading its code.
                var reason = context.Request.Headers.ContainsKey(DeltaOneTimestampHeader) && context.Request.Headers.ContainsKey(DeltaOneNonceHeader)
                    ? verification.Reason + $" (it carries {DeltaOneTimestampHeader} and {DeltaOneNonceHeader}, as the pipeline's deltaone.* events do: "
                      + "/ingest takes model registrations only; route those events with the pipeline's DELTAONE_WEBHOOK_ENDPOINTS)"
                    : verification.Reason!;
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "signature", reason).ConfigureAwait(false);
                return;
            }

            var read = IngestBody.Read(span, context.Request.Headers[WebhookHeaders.IdempotencyKey].ToString());
            if (read.Registration is not { } registration)
            {
                await RefuseAsync(context, read.Status, read.Status == 422 ? "not_a_registration" : "field", read.Reason!).ConfigureAwait(false);
                return;
            }

            activity?.SetTag("hokusai.idempotency_key", registration.IdempotencyKey);
            await PublishAsync(context, registration, read.Shape).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private async Task PublishAsync(HttpContext context, ModelRegistered registration, IngestShape shape)
    {
        var key = registration.IdempotencyKey;
        var started = time.GetTimestamp();
        try
        {
            // Not the request's token: once started, a publish completes even if the producer hangs up (it retries,
            // and its retry is at most a duplicate with the same key).
            using var confirm = new CancellationTokenSource(_options.ConfirmTimeout, time);
            await bus.PublishModelRegistered(registration, time, confirm.Token).WaitAsync(_options.ConfirmTimeout, time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.IngestBrokerUnavailable(logger, SafeText.Of(key, 200), _options.ConfirmTimeout.TotalSeconds, SafeText.Of(e.GetType().Name + ": " + e.Message, 200));
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(_options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "broker",
                "RabbitMQ did not confirm the publish; nothing was accepted, retry later.", log: false).ConfigureAwait(false);
            return;
        }

        var confirmedIn = time.GetElapsedTime(started);
        metrics.Accepted(shape, confirmedIn);
        Log.IngestAccepted(logger, key, shape == IngestShape.Mlflow ? "mlflow" : "guide", confirmedIn.TotalMilliseconds);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new IngestAnswer("accepted", key, null)).ConfigureAwait(false);
    }

    /// <summary>
    /// The body, up to the limit and within the time allowed, in a pooled buffer the caller returns. Over the limit is
    /// 413 (at once when <c>Content-Length</c> says so); a body that trickles in or stalls is cut off with 408.
    /// </summary>
    private async Task<(byte[] Body, int Length, (int Status, string Reason, string Detail)? Refusal)> ReadBodyAsync(HttpContext context)
    {
        var limit = _options.MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return (ArrayPool<byte>.Shared.Rent(1), 0,
                (413, "size", $"The body is {context.Request.ContentLength} bytes; the limit is {limit} (INGEST_MAX_BODY_BYTES)."));
        }

        // Room for one byte over the limit, so that a body without Content-Length is seen to be too large.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, (context.Request.ContentLength ?? 16 * 1024) + 1));

        // Our limit replaces Kestrel's, so the answer names ours; Kestrel's minimum data rate (240 B/s) still applies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(_options.BodyTimeout);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Full but not over the limit (that returned below): grow, up to one byte over it.
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), deadline.Token)
                    .ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length, null);
                }

                length += read;
                if (length > limit)
                {
                    return (buffer, length, (413, "size", $"The body is over the limit of {limit} bytes (INGEST_MAX_BODY_BYTES)."));
                }
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return (buffer, length, (408, "slow_body",
                $"The body did not arrive within {_options.BodyTimeout.TotalSeconds:0} s ({length} bytes came); it was cut off."));
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own cut-off: data arriving slower than its minimum rate, or a malformed chunked body.
            var reason = e.StatusCode switch { 408 => "slow_body", 413 => "size", _ => "field" };
            return (buffer, length, (e.StatusCode, reason, SafeText.Of(e.Message, 200)));
        }
    }

    private async Task RefuseAsync(HttpContext context, int status, string reason, string detail, bool log = true)
    {
        metrics.Refused(reason);
        if (log)
        {
            Log.IngestRefused(logger, status, reason, detail);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (status is 408 or 413)
        {
            // The rest of the body is not read: the connection cannot carry another request.
            context.Response.Headers.Connection = "close";
        }

        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new IngestAnswer("refused", null, detail)).ConfigureAwait(false);
    }

    /// <summary>
    /// The ingest span: a child of the caller's span when the request carries a W3C <c>traceparent</c> (ASP.NET Core's
    /// own request activity is not exported, so the caller is the parent the trace shows), else of the current activity.
    /// </summary>
    private static Activity? StartActivity(HttpRequest request)
    {
        if (request.Headers.TraceParent is { Count: > 0 } traceparent
            && ActivityContext.TryParse(traceparent.ToString(), request.Headers.TraceState.ToString(), isRemote: true, out var parent))
        {
            return Source.StartActivity("hokusai.ingest", ActivityKind.Server, parent);
        }

        return Source.StartActivity("hokusai.ingest", ActivityKind.Server);
    }

    /// <summary>The JSON answer: <c>{"status":"accepted","idempotency_key":"…"}</c> or <c>{"status":"refused","error":"…"}</c>.</summary>
    private sealed record IngestAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status,
        [property: System.Text.Json.Serialization.JsonPropertyName("idempotency_key"), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? IdempotencyKey,
        [property: System.Text.Json.Serialization.JsonPropertyName("error"), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Error);
}
