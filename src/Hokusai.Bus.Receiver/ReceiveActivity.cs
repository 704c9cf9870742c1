using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// The span around one delivery (<see cref="HokusaiReceiverTelemetry.ActivitySourceName"/>), current while the
/// handler runs, so the handler's own spans join the trace the sender started: a child of ASP.NET Core's request span
/// when the application traces requests (that span already continues <c>traceparent</c>), else of the request's W3C
/// <c>traceparent</c> itself. Nothing is created when no one listens.
/// </summary>
internal static class ReceiveActivity
{
    private static readonly ActivitySource Source = new(HokusaiReceiverTelemetry.ActivitySourceName);

    public static Activity? Start(HttpContext context)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = Activity.Current?.Context ?? default;
        if (Activity.Current is null
            && context.Request.Headers.TraceParent.ToString() is { Length: > 0 } traceparent
            && ActivityContext.TryParse(traceparent, context.Request.Headers.TraceState.ToString(), isRemote: true, out var sender))
        {
            parent = sender;
        }

        return Source.StartActivity("webhook receive", ActivityKind.Internal, parent);
    }
}
