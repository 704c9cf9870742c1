using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// OTLP export and distributed tracing (issue #15): the host as a process, configured only by OpenTelemetry's standard
/// variables, exporting to a real OTLP/HTTP endpoint on 127.0.0.1, with real RabbitMQ and a real receiver.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [RabbitFact]
    public async Task The_guides_four_metrics_and_one_trace_per_registration_reach_OTLP_and_the_receiver_gets_the_producers_trace()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        const string refusedKey = "99999999-9999-4999-8999-999999999999";
        scenario.Receiver.Respond = info => ValueTask.FromResult(
            info.IdempotencyKey == refusedKey ? new WebhookReceiver.Response(413)
            : info.Number == 1 ? new WebhookReceiver.Response(500)
            : WebhookReceiver.Response.Ok);
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Url.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_SERVICE_NAME"] = "hokusai-bus-test-host",
        });

        // A producer instrumented with OpenTelemetry (Python's pika instrumentation does this) puts its span's
        // W3C traceparent in the AMQP headers.
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var traceparent = $"00-{traceId}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))}-01";
        await scenario.PublishAsync(Payloads.Registration(), headers: new Dictionary<string, string> { ["traceparent"] = traceparent });
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        await scenario.PublishAsync(Payloads.Registration(refusedKey));
        await scenario.Receiver.WaitUntilAsync(r => r.Requests.Any(q => q.IdempotencyKey == refusedKey), Wait, "the refused registration");

        // Both attempts of the first registration (500, then 200) carry the producer's trace id, each its own span.
        var attempts = scenario.Receiver.Requests.Where(r => r.IdempotencyKey != refusedKey).ToList();
        Assert.Equal(2, attempts.Count);
        var sent = attempts.Select(r => r.Headers["traceparent"].Split('-')).ToList();
        Assert.All(sent, parts => Assert.Equal(traceId, parts[1]));
        Assert.NotEqual(sent[0][2], sent[1][2]);

        string[] guide = ["webhook_publish_success", "webhook_publish_failure", "webhook_retry_count", "webhook_circuit_breaker_state"];
        await otlp.WaitUntilAsync(o => guide.All(o.MetricNames.Contains), Wait, "the guide's four metrics");
        await otlp.WaitUntilAsync(o => o.Spans.Count(s => s.TraceId == traceId) >= 3, Wait, "the registration's trace");
        var spans = otlp.Spans.Where(s => s.TraceId == traceId).ToList();
        // The delivery span continues the producer's span; each HTTP attempt, as the receiver saw it, is its child.
        var deliver = Assert.Single(spans, s => s.Name == "webhook deliver");
        Assert.Equal(traceparent.Split('-')[2], deliver.ParentSpanId);
        Assert.Contains(spans, s => s.SpanId == sent[0][2] && s.ParentSpanId == deliver.SpanId);
        Assert.Contains(spans, s => s.SpanId == sent[1][2] && s.ParentSpanId == deliver.SpanId);
        // MassTransit's receive and consume spans are exported too (their own trace for a producer that is not .NET).
        await otlp.WaitUntilAsync(o => o.Spans.Any(s => s.Name.Contains("hokusai-webhook-delivery", StringComparison.Ordinal)), Wait, "MassTransit's spans");
        Assert.Contains("hokusai-bus-test-host", otlp.ServiceNames);
    }

    [RabbitFact]
    public async Task An_ingest_continues_the_incoming_traceparent_to_the_receiver()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestTests.IngestOn(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Url.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        }));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var callerSpan = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()));
        var vector = TestVectors.Mlflow[0];

        var request = IngestTests.Post(vector.Body, vector.IdempotencyKey);
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        // The pipeline's trace reaches the receiver: ingest, publish, consume and the HTTP attempt are one trace.
        Assert.Equal(traceId, Assert.Single(scenario.Receiver.Requests).Headers["traceparent"].Split('-')[1]);
        await otlp.WaitUntilAsync(o => o.Spans.Any(s => s.TraceId == traceId && s.Name == "hokusai.ingest"), Wait, "the ingest span");
        Assert.Equal(callerSpan, otlp.Spans.Single(s => s.TraceId == traceId && s.Name == "hokusai.ingest").ParentSpanId);
    }

    [RabbitFact]
    public async Task Without_OTLP_settings_no_trace_is_recorded_and_no_traceparent_is_sent()
    {
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync();
        var traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        await scenario.PublishAsync(Payloads.Registration(), headers: new Dictionary<string, string> { ["traceparent"] = traceparent });
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        Assert.False(Assert.Single(scenario.Receiver.Requests).Headers.ContainsKey("traceparent"));
    }
}
