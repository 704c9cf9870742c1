using System.Diagnostics;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>The receiver library continues the sender's trace (issue #15): the handler runs inside it.</summary>
public sealed class TraceTests
{
    [Fact]
    public async Task The_handler_runs_in_a_span_of_the_trace_the_senders_traceparent_names()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == HokusaiReceiverTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await ReceiverHost.StartAsync();
        (string? Source, ActivityTraceId TraceId)? seen = null;
        host.OnHandle = (_, _) =>
        {
            seen = (Activity.Current?.Source.Name, Activity.Current?.TraceId ?? default);
            return Task.CompletedTask;
        };
        var traceId = ActivityTraceId.CreateRandom();
        var body = Deliveries.NewBody();

        using var response = await host.PostAsync(body,
            (WebhookHeaders.Signature, new WebhookSigner(ReceiverHost.Secret).Sign(body)),
            ("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01"));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal((HokusaiReceiverTelemetry.ActivitySourceName, traceId), seen);
    }
}
