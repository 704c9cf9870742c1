using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// An OTLP/HTTP endpoint (what the AWS Distro for OpenTelemetry collector listens on) on a <see cref="LoopbackServer"/>,
/// taking <c>POST /v1/metrics</c> and <c>POST /v1/traces</c> in protobuf, decoded with the official OTLP messages
/// (Otlp/README.md), and keeping from each export the metric names, the spans (trace id, span id, name) and the
/// resource's <c>service.name</c>. A test awaits what it needs to see.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _metrics = new();
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();
    private readonly ConcurrentDictionary<string, int> _services = new();
    private readonly Recorded _recorded;
    private LoopbackServer _server = null!;

    private OtlpReceiver() =>
        _recorded = new Recorded(() => "metrics " + string.Join(", ", MetricNames.Order()) + $"; {_spans.Count} span(s)");

    public Uri Url => _server.BaseUrl;

    public IReadOnlyCollection<string> MetricNames => [.. _metrics.Keys];

    public IReadOnlyCollection<OtlpSpan> Spans => [.. _spans];

    public IReadOnlyCollection<string> ServiceNames => [.. _services.Keys];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        receiver._server = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/v1/metrics", context => receiver.ReceiveAsync(context, ExportMetricsServiceRequest.Parser, receiver.Read));
            app.MapPost("/v1/traces", context => receiver.ReceiveAsync(context, ExportTraceServiceRequest.Parser, receiver.Read));
        });
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds after an export arrived; fails after <paramref name="timeout"/>.</summary>
    public Task WaitUntilAsync(Func<OtlpReceiver, bool> condition, TimeSpan timeout, string what) =>
        _recorded.WaitAsync(() => condition(this), timeout, $"OTLP: {what}");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task ReceiveAsync<T>(HttpContext context, MessageParser<T> parser, Action<T> read)
        where T : IMessage<T>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var request = parser.ParseFrom(body.GetBuffer(), 0, (int)body.Length);
        _recorded.Record(() => read(request));
        context.Response.ContentType = "application/x-protobuf";
    }

    private void Read(ExportMetricsServiceRequest request)
    {
        foreach (var resource in request.ResourceMetrics)
        {
            Read(resource.Resource);
            foreach (var metric in resource.ScopeMetrics.SelectMany(s => s.Metrics))
            {
                _metrics.TryAdd(metric.Name, 0);
            }
        }
    }

    private void Read(ExportTraceServiceRequest request)
    {
        foreach (var resource in request.ResourceSpans)
        {
            Read(resource.Resource);
            foreach (var span in resource.ScopeSpans.SelectMany(s => s.Spans))
            {
                _spans.Enqueue(new OtlpSpan(Convert.ToHexStringLower(span.TraceId.Span), Convert.ToHexStringLower(span.SpanId.Span),
                    Convert.ToHexStringLower(span.ParentSpanId.Span), span.Name));
            }
        }
    }

    private void Read(Resource? resource)
    {
        foreach (var attribute in resource?.Attributes ?? [])
        {
            if (attribute is { Key: "service.name", Value.ValueCase: AnyValue.ValueOneofCase.StringValue })
            {
                _services.TryAdd(attribute.Value.StringValue, 0);
            }
        }
    }
}

/// <summary>One span as OTLP carried it; ids in lowercase hex.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name);
