using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;
using MassTransit.Serialization;
using RabbitMQ.Client;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>
/// The form <c>/ingest</c> publishes an event in (the bytes as the body, the rest in AMQP properties): every webhook
/// endpoint must read back exactly the event the host published, whatever its values, read an earlier host's form (the
/// event in headers), and refuse a message whose properties do not make an event, naming the property.
/// </summary>
public sealed class BarePipelineEventTests
{
    private static readonly DateTimeOffset Received = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, PipelineEvent> Events() => new()
    {
        {
            "an MLflow event", new PipelineEvent
            {
                EventType = "model_registered", Shape = PipelineEventShape.Mlflow, Body = TestVectors.Mlflow[0].Body,
                IdempotencyKey = TestVectors.Mlflow[0].IdempotencyKey, ModelId = ModelIdOf(TestVectors.Mlflow[0]), ReceivedAt = Received,
            }
        },
        {
            "a DeltaOne event naming no model", new PipelineEvent
            {
                EventType = "deltaone.minted", Shape = PipelineEventShape.DeltaOne, Body = Encoding.UTF8.GetBytes("{\"a\":1}"),
                IdempotencyKey = "deltaone.minted:abc", ModelId = null, ReceivedAt = Received.ToOffset(TimeSpan.FromHours(9)),
            }
        },
        {
            "non-ASCII and control characters, a key and a type too long for a property", new PipelineEvent
            {
                EventType = "deltaone." + new string('t', 300), Shape = PipelineEventShape.DeltaOne,
                Body = Encoding.UTF8.GetBytes("{\"model_id\":\"モデル\\t\\\"'\\u001b[31m\"}"),
                IdempotencyKey = "モデル\u0000\u001b[31m\r\n" + new string('k', 100_000), ModelId = "モデル\t\"'\u001b[31m",
                ReceivedAt = DateTimeOffset.MinValue,
            }
        },
        {
            "a key of exactly 255 UTF-8 bytes", new PipelineEvent
            {
                EventType = "model_registered", Shape = PipelineEventShape.Guide, Body = [(byte)'{', (byte)'}'],
                IdempotencyKey = "é" + new string('k', 253), ModelId = null, ReceivedAt = Received,
            }
        },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void An_endpoint_reads_back_exactly_the_event_the_host_published(string name, PipelineEvent published)
    {
        var properties = BarePipelineEvent.Properties(published, null);

        Assert.True(properties.Persistent);
        Assert.StartsWith("application/vnd.hokusai.pipeline-event+json; shape=", properties.ContentType, StringComparison.Ordinal);
        var read = BarePipelineEvent.Read(published.Body, Wire(properties));

        Assert.Equal(published.Body, read.Body);
        Assert.Equal(published with { Body = read.Body }, read);
        Assert.True(name.Length > 0);
    }

    [Fact]
    public void The_event_travels_in_properties_the_management_ui_shows_and_in_no_header()
    {
        var vector = TestVectors.Mlflow[0];
        var properties = BarePipelineEvent.Properties(new PipelineEvent
        {
            EventType = "model_registered", Shape = PipelineEventShape.Mlflow, Body = vector.Body, IdempotencyKey = vector.IdempotencyKey,
            ModelId = ModelIdOf(vector), ReceivedAt = Received,
        }, null);

        Assert.Equal("application/vnd.hokusai.pipeline-event+json; shape=mlflow", properties.ContentType);
        Assert.Equal(vector.IdempotencyKey, properties.MessageId);
        Assert.Equal("model_registered", properties.Type);
        Assert.Equal(Received.ToUnixTimeSeconds(), properties.Timestamp.UnixTime);
        Assert.Null(properties.Headers); // a header table costs the broker far more than these (docs/PERFORMANCE.md)
    }

    [Fact]
    public void A_key_or_type_too_long_for_a_property_travels_in_a_header_instead()
    {
        var key = new string('k', 256);
        var type = "deltaone." + new string('t', 247);

        var properties = BarePipelineEvent.Properties(new PipelineEvent { EventType = type, IdempotencyKey = key }, null);

        Assert.Null(properties.MessageId);
        Assert.Null(properties.Type);
        Assert.Equal(key, properties.Headers!["Hokusai-Idempotency-Key"]);
        Assert.Equal(type, properties.Headers!["Hokusai-Event-Type"]);
    }

    [Fact]
    public void The_trace_of_the_ingest_span_travels_with_it()
    {
        using var activity = new Activity("hokusai.ingest").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        activity.TraceStateString = "vendor=1";

        var headers = BarePipelineEvent.Properties(new PipelineEvent { IdempotencyKey = "k" }, activity).Headers!;

        Assert.Equal(activity.Id, headers["traceparent"]);
        Assert.Equal("vendor=1", headers["tracestate"]);
    }

    [Fact]
    public void A_trace_nobody_records_does_not_travel_so_the_message_has_no_header()
    {
        // What ASP.NET Core starts for every request when no tracing is on: a W3C activity, not recorded.
        using var activity = new Activity("Microsoft.AspNetCore.Hosting.HttpRequestIn").SetIdFormat(ActivityIdFormat.W3C).Start();

        var properties = BarePipelineEvent.Properties(new PipelineEvent { IdempotencyKey = "k" }, activity);

        Assert.False(activity.Recorded);
        Assert.Null(properties.Headers);
    }

    [Fact]
    public void An_event_an_earlier_host_published_with_every_field_in_headers_is_read_the_same_and_offered_only_as_the_event()
    {
        var vector = TestVectors.Mlflow[0];
        var headers = new DictionarySendHeaders();
        headers.Set("Hokusai-Event-Type", "model_registered");
        headers.Set("Hokusai-Event-Shape", "mlflow");
        headers.Set("Hokusai-Idempotency-Key", vector.IdempotencyKey);
        headers.Set("Hokusai-Model-Id", "as-the-earlier-host-said");
        headers.Set("Hokusai-Received-At", "2026-12-07T10:00:00.1230000+00:00");

        var context = BarePipelineEventDeserializer.Instance.Deserialize(new BytesMessageBody(vector.Body), headers);

        Assert.True(context.TryGetMessage<PipelineEvent>(out var read));
        Assert.Equal(new PipelineEvent
        {
            EventType = "model_registered", Shape = PipelineEventShape.Mlflow, Body = read!.Body, IdempotencyKey = vector.IdempotencyKey,
            ModelId = "as-the-earlier-host-said", ReceivedAt = new DateTimeOffset(2026, 12, 7, 10, 0, 0, 123, TimeSpan.Zero),
        }, read);
        Assert.Equal(vector.Body, read.Body);
        Assert.False(context.TryGetMessage<ModelRegistered>(out _)); // offered as the event only, never as a registration
    }

    [Theory]
    [InlineData("shape", null, "has no shape parameter in its content type")]
    [InlineData("shape", "application/vnd.hokusai.pipeline-event+json; shape=\"Mlflow\u001b[31m\"", "shape (its content type's parameter) is 'Mlflow")]
    [InlineData("type", null, "has no type property")]
    [InlineData("message_id", "", "has no message_id property")]
    [InlineData("timestamp", null, "has no timestamp property")]
    [InlineData("timestamp", "-99999999999999", "timestamp property is '-99999999999999': it must be a time from the year 1 to 9999")]
    public void A_message_whose_properties_make_no_event_fails_naming_the_property(string property, string? value, string reason)
    {
        var properties = BarePipelineEvent.Properties(new PipelineEvent { EventType = "model_registered", IdempotencyKey = "k" }, null);
        switch (property)
        {
            case "shape": properties.ContentType = value ?? BarePipelineEvent.MediaType; break;
            case "type": properties.Type = value; break;
            case "message_id": properties.MessageId = value; break;
            default:
                if (value is null)
                {
                    properties.ClearTimestamp();
                }
                else
                {
                    properties.Timestamp = new AmqpTimestamp(long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
                }

                break;
        }

        var e = Assert.Throws<SerializationException>(() => BarePipelineEvent.Read([(byte)'{', (byte)'}'], Wire(properties)));

        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain("\u001b", e.Message, StringComparison.Ordinal); // a value is shown sanitized
    }

    /// <summary>The properties as a consumer gets them: string headers arrive as UTF-8 bytes.</summary>
    private static BasicProperties Wire(BasicProperties sent) => new(sent)
    {
        Headers = sent.Headers?.ToDictionary(h => h.Key, h => h.Value is string s ? (object?)Encoding.UTF8.GetBytes(s) : h.Value),
    };

    /// <summary>The body's <c>model.id</c>, as the pipeline wrote it.</summary>
    private static string ModelIdOf(MlflowVector vector) => System.Text.Json.Nodes.JsonNode.Parse(vector.Body)!["model"]!["id"]!.GetValue<string>();
}
