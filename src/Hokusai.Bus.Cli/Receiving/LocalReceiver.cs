using System.Net;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Cli.Receiving;

/// <summary>
/// A webhook receiver on 127.0.0.1 built with Hokusai.Bus.Receiver (<c>AddHokusaiWebhookReceiver</c> +
/// <c>MapHokusaiWebhookEvents</c>): it takes every shape the host delivers (the guide's registration, the MLflow event,
/// the DeltaOne events), verifies X-Hokusai-Signature over the raw body and de-duplicates by idempotency key.
/// A middleware in front of it reports each request and applies the <see cref="ReceiverBehaviour"/>.
/// </summary>
internal sealed class LocalReceiver : IAsyncDisposable
{
    public const string WebhookPath = "/api/models/ready";
    public const string HealthPath = "/health";
    private static readonly AsyncLocal<ReceiptSlot?> Current = new();

    private readonly WebApplication _app;
    private readonly ReceiverBehaviour _behaviour;
    private readonly Action<Receipt> _onReceipt;
    private DateTimeOffset _downUntil;
    private int _requests;
    private int _delivered;
    private int _duplicates;
    private int _refused;
    private int _simulated;

    private LocalReceiver(WebApplication app, ReceiverBehaviour behaviour, Action<Receipt> onReceipt)
    {
        _app = app;
        _behaviour = behaviour;
        _onReceipt = onReceipt;
        _downUntil = DateTimeOffset.UtcNow + behaviour.DownFor;
    }

    /// <summary>Where to POST webhooks (any path but <see cref="HealthPath"/> is the webhook endpoint).</summary>
    public Uri WebhookUrl { get; private set; } = null!;

    /// <summary>Answers 200 to any POST (for <c>health</c>).</summary>
    public Uri HealthUrl { get; private set; } = null!;

    public int Port { get; private set; }

    public int Delivered => Volatile.Read(ref _delivered);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public int Refused => Volatile.Read(ref _refused);

    public int SimulatedFailures => Volatile.Read(ref _simulated);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Starts Kestrel on 127.0.0.1:<paramref name="port"/> (0: any free port).</summary>
    /// <exception cref="IOException">The port is taken.</exception>
    public static async Task<LocalReceiver> StartAsync(
        string secret, int port, ReceiverBehaviour behaviour, Action<Receipt> onReceipt, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddHokusaiWebhookReceiver(o => o.Secret = secret);
        builder.Services.AddSingleton<IWebhookReceiptListener>(new SlotListener());

        var app = builder.Build();
        var receiver = new LocalReceiver(app, behaviour, onReceipt);
        app.Use(receiver.ObserveAsync);
        app.MapPost(HealthPath, () => Results.Json(new { status = "healthy" }));
        app.MapHokusaiWebhookEvents("/{**path}", (_, _, _) => Task.CompletedTask);

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = new Uri(app.Urls.First());
        receiver.Port = address.Port;
        receiver.WebhookUrl = new Uri($"http://127.0.0.1:{address.Port}{WebhookPath}");
        receiver.HealthUrl = new Uri($"http://127.0.0.1:{address.Port}{HealthPath}");
        return receiver;
    }

    /// <summary>Starts the <see cref="ReceiverBehaviour.DownFor"/> period now (it first starts with the receiver).</summary>
    public void StartOutageNow() => _downUntil = DateTimeOffset.UtcNow + _behaviour.DownFor;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ObserveAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.Equals(HealthPath, StringComparison.OrdinalIgnoreCase) || !HttpMethods.IsPost(context.Request.Method))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var number = Interlocked.Increment(ref _requests);
        var headerKey = context.Request.Headers[WebhookHeaders.IdempotencyKey].ToString();
        if (DateTimeOffset.UtcNow < _downUntil)
        {
            Interlocked.Increment(ref _simulated);
            await AnswerAsync(context, StatusCodes.Status503ServiceUnavailable, "{\"error\":\"receiver down (--down-for)\"}").ConfigureAwait(false);
            Report(new Receipt(number, ReceiptKind.SimulatedDown, 503, NullIfEmpty(headerKey), null, null,
                $"down for {Terminal.Seconds(_behaviour.DownFor)} s (--down-for)"));
            return;
        }

        if (number <= _behaviour.FailFirst)
        {
            Interlocked.Increment(ref _simulated);
            await AnswerAsync(context, StatusCodes.Status500InternalServerError, "{\"error\":\"simulated failure (--fail-first)\"}").ConfigureAwait(false);
            Report(new Receipt(number, ReceiptKind.SimulatedFailure, 500, NullIfEmpty(headerKey), null, null,
                $"simulated failure {number} of {_behaviour.FailFirst} (--fail-first)"));
            return;
        }

        if (_behaviour.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(_behaviour.Delay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // the sender gave up (its timeout) or went away
            }
        }

        // The library reports how it answered (IWebhookReceiptListener, into this request's slot); only --status needs
        // the answer held back, to replace a 2xx with another status.
        var slot = new ReceiptSlot();
        Current.Value = slot;
        var original = context.Response.Body;
        using var held = _behaviour.Status is null ? null : new MemoryStream();
        if (held is not null)
        {
            context.Response.Body = held;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
            Current.Value = null;
        }

        var status = context.Response.StatusCode;
        var receipt = slot.Receipt;
        var kind = receipt?.Kind switch
        {
            WebhookReceiptKind.Processed => ReceiptKind.Delivered,
            WebhookReceiptKind.Duplicate => ReceiptKind.Duplicate,
            _ => ReceiptKind.Refused,
        };
        switch (kind)
        {
            case ReceiptKind.Delivered:
                Interlocked.Increment(ref _delivered);
                break;
            case ReceiptKind.Duplicate:
                Interlocked.Increment(ref _duplicates);
                break;
            default:
                Interlocked.Increment(ref _refused);
                break;
        }

        var valid = receipt?.Kind != WebhookReceiptKind.InvalidSignature;
        var detail = receipt switch
        {
            null => "not answered by the receiver library (the sender went away?)",
            { Reason: { } reason } => $"{receipt.Kind}: {reason}",
            _ => (receipt.Kind == WebhookReceiptKind.Processed ? "processed" : "already processed") + Shape(receipt),
        };
        if (held is not null)
        {
            if (_behaviour.Status is { } replaced && status is >= 200 and < 300)
            {
                context.Response.StatusCode = replaced;
                detail = $"{detail}, answered {replaced} instead of {status} (--status)";
                status = replaced;
            }

            held.Position = 0;
            context.Response.ContentLength = held.Length;
            await held.CopyToAsync(original, context.RequestAborted).ConfigureAwait(false);
        }

        Report(new Receipt(number, kind, status, receipt?.IdempotencyKey ?? NullIfEmpty(headerKey), receipt?.ModelId, valid, detail));
    }

    private void Report(Receipt receipt)
    {
        try
        {
            _onReceipt(receipt);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The console went away; the receiver keeps answering.
        }
    }

    private static async Task AnswerAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Nothing for the guide's registration (the common case); else which shape it was, e.g. " (MLflow event)".</summary>
    private static string Shape(WebhookReceipt receipt) => receipt.Shape switch
    {
        PipelineEventShape.Mlflow => " (MLflow event)",
        PipelineEventShape.DeltaOne => $" ({SafeText.Of(receipt.EventType, 60)} event)",
        _ => "",
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>Where the library's receipt for the request in flight is put.</summary>
    private sealed class ReceiptSlot
    {
        public WebhookReceipt? Receipt { get; set; }
    }

    /// <summary>Puts each receipt into the slot of the request it belongs to (it flows with the request's async context).</summary>
    private sealed class SlotListener : IWebhookReceiptListener
    {
        public void Write(WebhookReceipt receipt)
        {
            if (Current.Value is { } slot)
            {
                slot.Receipt = receipt;
            }
        }
    }
}
