using System.Diagnostics;
using Hokusai.Bus.Contracts;
using MassTransit;
using Hokusai.Bus.Receiver;

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
    HokusaiSettingNames names,
    ILogger<IngestEndpoint> logger)
{
    public const string Path = "/ingest";

    /// <summary>The ingest span's source: the span continues an incoming W3C <c>traceparent</c>.</summary>
    public const string ActivitySourceName = "Hokusai.Bus.Ingest";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private const string DeltaOneTimestampHeader = "X-Hokusai-Timestamp";
    private const string DeltaOneNonceHeader = "X-Hokusai-Nonce";

    private readonly IngestOptions _options = ingestOptions.Value;

    private readonly SignedRequestReader _reader = new(
        new HokusaiWebhook([ingestOptions.Value.Secret!, .. ingestOptions.Value.RotationSecrets]),
        new SignedRequestLimits(ingestOptions.Value.MaxBodyBytes, ingestOptions.Value.BodyTimeout,
            names.Of($"{IngestOptions.SectionName}:{nameof(IngestOptions.MaxBodyBytes)}")));

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
            // The pipeline's deltaone.* events are signed over "<timestamp>.<nonce>.<body>" with these two headers:
            // say what reached /ingest, so the fix (DELTAONE_WEBHOOK_ENDPOINTS) is found without reading its code.
            var detail = refusal.Reason == SignedRequestRefusal.Signature
                         && context.Request.Headers.ContainsKey(DeltaOneTimestampHeader) && context.Request.Headers.ContainsKey(DeltaOneNonceHeader)
                ? refusal.Detail + $" (it carries {DeltaOneTimestampHeader} and {DeltaOneNonceHeader}, as the pipeline's deltaone.* events do: "
                  + "/ingest takes model registrations only; route those events with the pipeline's DELTAONE_WEBHOOK_ENDPOINTS)"
                : refusal.Detail;
            await RefuseAsync(context, refusal with { Detail = detail }).ConfigureAwait(false);
            return;
        }

        var read = IngestBody.Read(request.Body.Span, context.Request.Headers[WebhookHeaders.IdempotencyKey].ToString());
        if (read.Registration is not { } registration)
        {
            await RefuseAsync(context, new SignedRequestRefusal(read.Status, read.Status == 422 ? "not_a_registration" : "field", read.Reason!))
                .ConfigureAwait(false);
            return;
        }

        activity?.SetTag("hokusai.idempotency_key", registration.IdempotencyKey);
        await PublishAsync(context, registration, read.Shape).ConfigureAwait(false);
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
            await RefuseAsync(context, new SignedRequestRefusal(StatusCodes.Status503ServiceUnavailable, "broker",
                "RabbitMQ did not confirm the publish; nothing was accepted, retry later."), log: false).ConfigureAwait(false);
            return;
        }

        var confirmedIn = time.GetElapsedTime(started);
        metrics.Accepted(shape, confirmedIn);
        Log.IngestAccepted(logger, key, shape == IngestShape.Mlflow ? "mlflow" : "guide", confirmedIn.TotalMilliseconds);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new IngestAnswer("accepted", key, null)).ConfigureAwait(false);
    }

    private async Task RefuseAsync(HttpContext context, SignedRequestRefusal refusal, bool log = true)
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
        await context.Response.WriteAsJsonAsync(new IngestAnswer("refused", null, refusal.Detail)).ConfigureAwait(false);
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
