using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text;
using Hokusai.Bus.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>
/// The form <c>/ingest</c> publishes an event in (the bytes as the body, the rest in headers): every webhook endpoint
/// must read back exactly the event the host published, whatever its values, and refuse a message whose headers do
/// not make an event, naming the header.
/// </summary>
public sealed class BarePipelineEventTests
{
    public static TheoryData<string, PipelineEvent> Events() => new()
    {
        {
            "an MLflow event", new PipelineEvent
            {
                EventType = "model_registered", Shape = PipelineEventShape.Mlflow, Body = TestSupport.TestVectors.Mlflow[0].Body,
                IdempotencyKey = TestSupport.TestVectors.Mlflow[0].IdempotencyKey, ModelId = "42",
                ReceivedAt = new DateTimeOffset(2026, 12, 7, 10, 0, 0, 123, TimeSpan.Zero),
            }
        },
        {
            "a DeltaOne event naming no model", new PipelineEvent
            {
                EventType = "deltaone.minted", Shape = PipelineEventShape.DeltaOne, Body = Encoding.UTF8.GetBytes("{\"a\":1}"),
                IdempotencyKey = "deltaone.minted:abc", ModelId = null, ReceivedAt = new DateTimeOffset(2026, 12, 7, 11, 0, 0, TimeSpan.FromHours(9)),
            }
        },
        {
            "non-ASCII, control characters and a huge key", new PipelineEvent
            {
                EventType = "model_registered", Shape = PipelineEventShape.Guide, Body = [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'],
                IdempotencyKey = "モデル\u0000\u001b[31m\r\n" + new string('k', 100_000), ModelId = "モデル\t\"'",
                ReceivedAt = DateTimeOffset.MinValue,
            }
        },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void An_endpoint_reads_back_exactly_the_event_the_host_published(string name, PipelineEvent published)
    {
        var properties = BarePipelineEvent.Properties(published, null);

        Assert.True(properties.Persistent);
        Assert.Equal("application/vnd.hokusai.pipeline-event+json", properties.ContentType);
        var context = Deserialize(published.Body, properties.Headers!);

        Assert.True(context.TryGetMessage<PipelineEvent>(out var read), name);
        Assert.Equal(published.Body, read!.Body);
        Assert.Equal(published with { Body = read.Body }, read);
        Assert.False(context.TryGetMessage<ModelRegistered>(out _)); // offered as the event only, never as a registration
    }

    [Fact]
    public void The_trace_of_the_ingest_span_travels_with_it()
    {
        using var activity = new Activity("hokusai.ingest").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.TraceStateString = "vendor=1";

        var headers = BarePipelineEvent.Properties(new PipelineEvent { IdempotencyKey = "k" }, activity).Headers!;

        Assert.Equal(activity.Id, headers["traceparent"]);
        Assert.Equal("vendor=1", headers["tracestate"]);
    }

    [Theory]
    [InlineData("Hokusai-Event-Shape", null, "has no Hokusai-Event-Shape header")]
    [InlineData("Hokusai-Event-Shape", "Mlflow\u001b[31m", "Hokusai-Event-Shape header is 'Mlflow")]
    [InlineData("Hokusai-Event-Type", null, "has no Hokusai-Event-Type header")]
    [InlineData("Hokusai-Idempotency-Key", "", "has no Hokusai-Idempotency-Key header")]
    [InlineData("Hokusai-Received-At", "yesterday", "Hokusai-Received-At header is 'yesterday': it must be an ISO 8601 time")]
    public void A_message_whose_headers_make_no_event_fails_naming_the_header(string header, string? value, string reason)
    {
        var headers = BarePipelineEvent.Properties(new PipelineEvent { EventType = "model_registered", IdempotencyKey = "k" }, null).Headers!;
        headers[header] = value;
        if (value is null)
        {
            headers.Remove(header);
        }

        var e = Assert.Throws<SerializationException>(() => Deserialize([(byte)'{', (byte)'}'], headers));

        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain("\u001b", e.Message, StringComparison.Ordinal); // a header's value is shown sanitized
    }

    private static SerializerContext Deserialize(byte[] body, IDictionary<string, object?> headers)
    {
        var sendHeaders = new DictionarySendHeaders();
        foreach (var (name, value) in headers)
        {
            sendHeaders.Set(name, value);
        }

        return BarePipelineEventDeserializer.Instance.Deserialize(new BytesMessageBody(body), sendHeaders);
    }
}
