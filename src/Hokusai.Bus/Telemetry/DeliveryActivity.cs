using System.Diagnostics;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// The span around one registration's delivery (<see cref="HokusaiNames.ActivitySourceName"/>), parent of every HTTP
/// attempt, so the receiver's <c>traceparent</c> continues the producer's trace. MassTransit 8.5 continues a trace only
/// from its own <c>MT-Activity-Id</c> header (what .NET producers send); a producer instrumented with OpenTelemetry in
/// another language sends W3C <c>traceparent</c>, so for that message this span takes it as its parent and links
/// MassTransit's receive span. Nothing is created when no one listens (tracing off).
/// </summary>
internal static class DeliveryActivity
{
    private const string MassTransitParent = "MT-Activity-Id";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    private static readonly ActivitySource Source = new(HokusaiNames.ActivitySourceName);

    public static Activity? Start(ConsumeContext context, string endpoint)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var current = Activity.Current;
        var parent = current?.Context ?? default;
        ActivityLink[]? links = null;
        if (!context.Headers.TryGetHeader(MassTransitParent, out _)
            && context.Headers.Get<string>(TraceParent) is { } traceparent
            && ActivityContext.TryParse(traceparent, context.Headers.Get<string>(TraceState), isRemote: true, out var producer))
        {
            parent = producer;
            links = current is null ? null : [new ActivityLink(current.Context)];
        }

        var activity = Source.StartActivity("webhook deliver", ActivityKind.Internal, parent, links: links);
        activity?.SetTag("hokusai.webhook.endpoint", endpoint);
        return activity;
    }
}
