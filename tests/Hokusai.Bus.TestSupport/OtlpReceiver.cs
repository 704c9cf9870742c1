using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// An OTLP/HTTP endpoint (what the AWS Distro for OpenTelemetry collector listens on): Kestrel on 127.0.0.1 taking
/// <c>POST /v1/metrics</c> and <c>POST /v1/traces</c> in protobuf, decoding from each export the metric names, the
/// spans (trace id, span id, name) and the resource's <c>service.name</c>. A test awaits what it needs to see.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _metrics = new();
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();
    private readonly ConcurrentDictionary<string, int> _services = new();
    private readonly SemaphoreSlim _changed = new(0);

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyCollection<string> MetricNames => [.. _metrics.Keys];

    public IReadOnlyCollection<OtlpSpan> Spans => [.. _spans];

    public IReadOnlyCollection<string> ServiceNames => [.. _services.Keys];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/metrics", context => receiver.ReceiveAsync(context, receiver.ReadMetrics));
        app.MapPost("/v1/traces", context => receiver.ReceiveAsync(context, receiver.ReadSpans));
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First().TrimEnd('/'));
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds after an export arrived; fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<OtlpReceiver, bool> condition, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (!condition(this))
        {
            try
            {
                await _changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"OTLP: {what} not seen within {timeout.TotalSeconds} s; metrics seen: "
                    + string.Join(", ", MetricNames.Order()) + $"; {_spans.Count} span(s)");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext context, Action<ReadOnlyMemory<byte>> read)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        read(body.ToArray());
        context.Response.ContentType = "application/x-protobuf";
        _changed.Release();
    }

    // ExportMetricsServiceRequest: 1 ResourceMetrics { 1 Resource, 2 ScopeMetrics { 2 Metric { 1 name } } }
    private void ReadMetrics(ReadOnlyMemory<byte> request)
    {
        foreach (var resource in Protobuf.Fields(request, 1))
        {
            ReadResource(resource);
            foreach (var scope in Protobuf.Fields(resource, 2))
            {
                foreach (var metric in Protobuf.Fields(scope, 2))
                {
                    foreach (var name in Protobuf.Fields(metric, 1))
                    {
                        _metrics.TryAdd(Encoding.UTF8.GetString(name.Span), 0);
                    }
                }
            }
        }
    }

    // ExportTraceServiceRequest: 1 ResourceSpans { 1 Resource, 2 ScopeSpans { 2 Span { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name } } }
    private void ReadSpans(ReadOnlyMemory<byte> request)
    {
        foreach (var resource in Protobuf.Fields(request, 1))
        {
            ReadResource(resource);
            foreach (var scope in Protobuf.Fields(resource, 2))
            {
                foreach (var span in Protobuf.Fields(scope, 2))
                {
                    string Hex(int field) => Protobuf.Fields(span, field).Select(f => Convert.ToHexStringLower(f.Span)).FirstOrDefault() ?? "";
                    _spans.Enqueue(new OtlpSpan(Hex(1), Hex(2), Hex(4),
                        Protobuf.Fields(span, 5).Select(f => Encoding.UTF8.GetString(f.Span)).FirstOrDefault() ?? ""));
                }
            }
        }
    }

    // Resource { 1 KeyValue { 1 key, 2 AnyValue { 1 string_value } } }
    private void ReadResource(ReadOnlyMemory<byte> resourceMessage)
    {
        foreach (var resource in Protobuf.Fields(resourceMessage, 1))
        {
            foreach (var attribute in Protobuf.Fields(resource, 1))
            {
                var key = Protobuf.Fields(attribute, 1).Select(f => Encoding.UTF8.GetString(f.Span)).FirstOrDefault();
                if (key == "service.name")
                {
                    foreach (var value in Protobuf.Fields(attribute, 2).SelectMany(v => Protobuf.Fields(v, 1)))
                    {
                        _services.TryAdd(Encoding.UTF8.GetString(value.Span), 0);
                    }
                }
            }
        }
    }

    /// <summary>The protobuf wire format, as far as reading length-delimited fields takes it.</summary>
    private static class Protobuf
    {
        /// <summary>The length-delimited values of field <paramref name="number"/> in <paramref name="message"/>.</summary>
        public static List<ReadOnlyMemory<byte>> Fields(ReadOnlyMemory<byte> message, int number)
        {
            var found = new List<ReadOnlyMemory<byte>>();
            var span = message.Span;
            var at = 0;
            while (at < span.Length)
            {
                var tag = Varint(span, ref at);
                var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
                switch (wire)
                {
                    case 0:
                        Varint(span, ref at);
                        break;
                    case 1:
                        at += 8;
                        break;
                    case 2:
                        var length = (int)Varint(span, ref at);
                        if (field == number)
                        {
                            found.Add(message.Slice(at, length));
                        }

                        at += length;
                        break;
                    case 5:
                        at += 4;
                        break;
                    default:
                        throw new InvalidDataException($"protobuf wire type {wire} at byte {at}");
                }
            }

            return found;
        }

        private static ulong Varint(ReadOnlySpan<byte> span, ref int at)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = span[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}

/// <summary>One span as OTLP carried it; ids in lowercase hex.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name);
