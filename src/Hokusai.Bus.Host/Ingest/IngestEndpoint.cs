using System.Diagnostics;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>
/// <c>POST /ingest</c>: every webhook the pipeline sends to its <c>WEBHOOK_URL</c> (registrations, and DeltaOne events
/// signed with a timestamp and nonce), published to RabbitMQ as a <see cref="PipelineEvent"/> with the exact bytes
/// received (<see cref="IngestPublisher"/>), for the endpoints to deliver, so the pipeline needs no change but its
/// <c>WEBHOOK_URL</c>. Answers 2xx only once RabbitMQ has confirmed the publish; every refusal says why in one sentence.
/// </summary>
internal sealed class IngestEndpoint(
    Microsoft.Extensions.Options.IOptions<IngestOptions> ingestOptions,
    IngestPublisher publisher,
    IngestMetrics metrics,
    TimeProvider time,
    HokusaiSettingNames names,
    EventSubscriptions subscriptions,
    NonceMemory nonces,
    DeliveryLog.DeliveryLogRecorder deliveryLog,
    Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    ILogger<IngestEndpoint> logger)
{
    public const string Path = "/ingest";

    /// <summary>The ingest span's source: the span continues an incoming W3C <c>traceparent</c>.</summary>
    public const string ActivitySourceName = "Hokusai.Bus.Ingest";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private readonly IngestOptions _options = ingestOptions.Value;

    private readonly SignedRequestReader _reader = new(
        new HokusaiWebhook([ingestOptions.Value.Secret!, .. ingestOptions.Value.RotationSecrets]),
        new SignedRequestLimits(ingestOptions.Value.MaxBodyBytes, ingestOptions.Value.BodyTimeout,
            names.Of($"{IngestOptions.SectionName}:{nameof(IngestOptions.MaxBodyBytes)}")),
        nonces);

    public async Task HandleAsync(HttpContext context)
    {
        using var activity = StartActivity(context.Request);
        // The receiver library's reader: the same size and time limits, verification and refusals as MapHokusaiWebhook.
        using var request = await _reader.ReadAsync(context).ConfigureAwait(false);
        if (request.Abandoned)
        {
            metrics.Refused("gone");
            return;
        }

        if (request.Refusal is { } refusal)
        {
            Refuse(context, refusal);
            return;
        }

        var read = IngestBody.Read(request.Body.Span, context.Request.Headers[WebhookHeaders.IdempotencyKey].ToString(),
            request.SignedWithNonce, subscriptions.Subscribes, time.GetUtcNow());
        if (read.Event is not { } pipelineEvent)
        {
            Refuse(context, new SignedRequestRefusal(read.Status, read.Refusal, read.Reason!));
            return;
        }

        activity?.SetTag("hokusai.idempotency_key", pipelineEvent.IdempotencyKey);
        activity?.SetTag("hokusai.event_type", pipelineEvent.EventType);
        await PublishAsync(context, pipelineEvent).ConfigureAwait(false);
    }

    /// <summary>Publishes the event as received, persistent, and answers 202 only once RabbitMQ has confirmed it.</summary>
    private async Task PublishAsync(HttpContext context, PipelineEvent pipelineEvent)
    {
        var key = pipelineEvent.IdempotencyKey;
        var started = time.GetTimestamp();
        try
        {
            // Not the request's token: once started, a publish completes even if the producer hangs up (it retries,
            // and its retry is at most a duplicate with the same key). One timer bounds both the publish and the wait
            // for it, so a publish that ignored its token still answers 503 in time.
            using var confirm = new CancellationTokenSource(_options.ConfirmTimeout, time);
            await publisher.PublishAsync(pipelineEvent, confirm.Token).WaitAsync(confirm.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.IngestBrokerUnavailable(logger, SafeText.Of(key, 200), _options.ConfirmTimeout.TotalSeconds, SafeText.Of(e.GetType().Name + ": " + e.Message, 200));
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(_options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Refuse(context, new SignedRequestRefusal(StatusCodes.Status503ServiceUnavailable, "broker",
                e is RabbitMQ.Client.Exceptions.PublishException { IsReturn: true } // mandatory, and nothing bound
                    ? "RabbitMQ has no queue for this event (no webhook endpoint has started on its virtual host yet); nothing was accepted, retry later."
                    : "RabbitMQ did not confirm the publish; nothing was accepted, retry later."), log: false);
            return;
        }

        var confirmedIn = time.GetElapsedTime(started);
        metrics.Accepted(pipelineEvent.Shape, confirmedIn);
        deliveryLog.Accepted(key, pipelineEvent.ModelId, pipelineEvent.EventType);
        Log.IngestAccepted(logger, key, SafeText.Of(pipelineEvent.EventType, 60), BarePipelineEvent.ShapeName(pipelineEvent.Shape),
            confirmedIn.TotalMilliseconds);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        Write(context.Response, new IngestAnswer("accepted", key, null));
    }

    private void Refuse(HttpContext context, SignedRequestRefusal refusal, bool log = true)
    {
        metrics.Refused(refusal.Reason);
        if (log)
        {
            Log.IngestRefused(logger, refusal.Status, refusal.Reason, refusal.Detail);
        }

        if (context.RequestAborted.IsCancellationRequested || context.Response.HasStarted)
        {
            return;
        }

        refusal.Prepare(context.Response);
        Write(context.Response, new IngestAnswer("refused", null, refusal.Detail));
    }

    /// <summary>
    /// The answer with its <c>Content-Length</c>, into the response's buffer: Kestrel sends it with the headers in one
    /// write when the request ends. <c>WriteAsJsonAsync</c> answers chunked (a second write, the last chunk, and a
    /// second read for the producer), and a flush of our own would be a write before Kestrel's last.
    /// </summary>
    private void Write(HttpResponse response, IngestAnswer answer)
    {
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(answer, json.Value.SerializerOptions); // as WriteAsJsonAsync writes it
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = bytes.Length;
        System.Buffers.BuffersExtensions.Write(response.BodyWriter, bytes);
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
