using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Operations.DeliveryLog;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>
/// <c>GET /deliveries</c>: the delivery log's timelines, filtered as <c>hokusai-bus deliveries</c> filters them
/// (<c>key</c>, <c>model_id</c>, <c>endpoint</c>, <c>since</c>, <c>until</c>, <c>status</c>), as JSON, or as a read-only
/// HTML page when the browser asks for HTML. Served only when <c>DELIVERY_LOG_TOKEN</c> is set, and only to a request
/// with <c>Authorization: Bearer &lt;token&gt;</c>, compared in constant time; any other request gets 401.
/// </summary>
internal sealed class DeliveriesEndpoint(IOptions<DeliveryLogOptions> options, HostSettings settings, TimeProvider time, ILogger<DeliveriesEndpoint> logger)
{
    public const string Path = "/deliveries";

    private readonly byte[] _tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Token ?? ""));

    private readonly DeliveryLogReader _reader = new(cancellationToken => settings.RabbitMq.ConnectAsync("hokusai-bus /deliveries", cancellationToken));

    public async Task HandleAsync(HttpContext context)
    {
        if (!Authorized(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"hokusai-deliveries\"";
            await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = "a valid bearer token is required" }).ConfigureAwait(false);
            return;
        }

        var (query, error) = Query(context.Request.Query, time.GetUtcNow());
        if (query is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = error }).ConfigureAwait(false);
            return;
        }

        IReadOnlyList<DeliveryTimeline> timelines;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            timelines = await query.ApplyAsync(_reader.ReadAsync(query.From(time.GetUtcNow()), cancellationToken: timeout.Token), timeout.Token)
                .ConfigureAwait(false);
        }
        catch (DeliveryLogUnavailableException e) when (!e.Exists)
        {
            timelines = []; // no host has written to the log yet
        }
        catch (Exception e) when (e is DeliveryLogUnavailableException
                                      or RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.OperationInterruptedException
                                      or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            Log.DeliveryLogUnreadable(logger, e switch
            {
                DeliveryLogUnavailableException => e.Message,
                RabbitMQ.Client.Exceptions.BrokerUnreachableException => "the broker cannot be reached",
                RabbitMQ.Client.Exceptions.OperationInterruptedException { ShutdownReason: { } reason } => $"RabbitMQ said {reason.ReplyCode} {reason.ReplyText}",
                _ => "not read within 60 s",
            });
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = "the delivery log cannot be read now (RabbitMQ)" }).ConfigureAwait(false);
            return;
        }

        if (context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(DeliveriesPage.Render(query, timelines, time.GetUtcNow()), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(DeliveryTimelineJson.Of(timelines), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The query the request asks for, or why it cannot be read.</summary>
    internal static (DeliveryQuery? Query, string? Error) Query(IQueryCollection parameters, DateTimeOffset now)
    {
        DateTimeOffset? Time(string name, out string? error)
        {
            error = null;
            if (parameters[name] is not { Count: > 0 } value)
            {
                return null;
            }

            if (DeliveryQuery.TryParseTime(value.ToString(), now, out var at))
            {
                return at;
            }

            error = $"{name} must be ISO 8601 or a span back from now (30m, 24h, 7d); got '{Contracts.SafeText.Of(value.ToString(), 40)}'.";
            return null;
        }

        var since = Time("since", out var sinceError);
        var until = Time("until", out var untilError);
        DeliveryStatus? status = null;
        if (parameters["status"] is { Count: > 0 } statusText)
        {
            if (!Enum.TryParse<DeliveryStatus>(statusText.ToString(), ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return (null, $"status must be delivered, failed or waiting; got '{Contracts.SafeText.Of(statusText.ToString(), 40)}'.");
            }

            status = parsed;
        }

        if ((sinceError ?? untilError) is { } error)
        {
            return (null, error);
        }

        static string? Text(StringValues value) => value.Count > 0 && value.ToString().Length > 0 ? value.ToString() : null;
        return (new DeliveryQuery
        {
            Key = Text(parameters["key"]),
            ModelId = Text(parameters["model_id"]),
            Endpoint = Text(parameters["endpoint"]),
            Since = since,
            Until = until,
            Status = status,
        }, null);
    }

    private bool Authorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashes of equal length, compared in constant time: neither the token's length nor its prefix leaks.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _tokenHash);
    }
}
