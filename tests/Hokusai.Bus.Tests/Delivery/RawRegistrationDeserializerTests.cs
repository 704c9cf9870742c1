using System.Text;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>
/// The endpoints' raw JSON deserializer reads a registration with one parse (issue #14); for every body, good or bad,
/// it must give what MassTransit's raw deserializer gives: the same registration, or the same failure at the same step.
/// </summary>
public sealed class RawRegistrationDeserializerTests
{
    private static readonly string Seed = Encoding.UTF8.GetString(TestVectors.SeedFile());

    public static TheoryData<string, string> Bodies() => new()
    {
        { "seed", Seed },
        { "metric names in another case", Seed.Replace("\"accuracy\"", "\"Accuracy\"", StringComparison.Ordinal) },
        { "property names in another case", Seed.Replace("\"model_id\"", "\"MODEL_ID\"", StringComparison.Ordinal) },
        { "non-ASCII and control characters", Seed.Replace("sentiment-analyzer", "モデル\\u0000\\u001b[31m\\r\\n", StringComparison.Ordinal) },
        { "a huge value", Seed.Replace("run_xyz789", new string('x', 300_000), StringComparison.Ordinal) },
        { "a string where a metric belongs", Seed.Replace("0.85", "\"0.85\"", StringComparison.Ordinal) },
        { "a number where the model id belongs", Seed.Replace("\"model_abc123\"", "42", StringComparison.Ordinal) },
        { "a timestamp that is not ISO 8601", Seed.Replace("2024-01-15T10:30:00Z", "yesterday", StringComparison.Ordinal) },
        { "a metric out of range", Seed.Replace("0.85", "1e400", StringComparison.Ordinal) },
        { "an empty object", "{}" },
        { "JSON null", "null" },
        { "an array", "[1,2]" },
        { "a bare string", "\"text\"" },
        { "not JSON", "model_id=abc" },
        { "truncated JSON", Seed[..40] },
        { "nothing", "" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Gives_what_MassTransits_raw_deserializer_gives(string name, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var massTransit = Read(new SystemTextJsonRawMessageSerializer(RawSerializerOptions.AnyMessageType), bytes);
        var ours = Read(RawRegistrationDeserializer.Instance, bytes);

        Assert.True(massTransit == ours, $"{name}: MassTransit gave {massTransit}, ours {ours}");
    }

    [Fact]
    public void Reads_the_registration_once_and_forwards_the_body_as_MassTransit_would()
    {
        var bytes = TestVectors.SeedFile();
        var context = RawRegistrationDeserializer.Instance.Deserialize(new BytesMessageBody(bytes), new DictionarySendHeaders());

        Assert.True(context.TryGetMessage<ModelRegistered>(out var first));
        Assert.True(context.TryGetMessage<ModelRegistered>(out var second));
        Assert.Same(first, second);
        Assert.Equal("model_abc123", first!.ModelId);

        // Forwarding (the harness's delayed redelivery) writes the body MassTransit's raw context would write.
        var expected = new SystemTextJsonRawMessageSerializer(RawSerializerOptions.AnyMessageType)
            .Deserialize(new BytesMessageBody(bytes), new DictionarySendHeaders()).GetMessageSerializer();
        Assert.Equal(expected.ContentType, context.GetMessageSerializer().ContentType);
    }

    [Theory]
    [InlineData("0.85", "\"0.85\"", "baseline_metrics.accuracy has the wrong JSON type: it must be a number.")]
    [InlineData("\"model_abc123\"", "42", "model_id has the wrong JSON type: it must be a string.")]
    public void A_body_it_cannot_read_fails_naming_the_field_with_no_inner_exception(string from, string to, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(Seed.Replace(from, to, StringComparison.Ordinal));
        var context = RawRegistrationDeserializer.Instance.Deserialize(new BytesMessageBody(bytes), new DictionarySendHeaders());

        var refused = Assert.Throws<InvalidModelRegistrationException>(() => context.TryGetMessage<ModelRegistered>(out _));

        Assert.Equal("Invalid ModelRegistered: " + reason, refused.Message);
        Assert.Null(refused.InnerException); // what the host's R-FAULT line and MT-Fault-ExceptionType show
    }

    /// <summary>The step that failed and how, or the registration as MassTransit's options write it back.</summary>
    private static string Read(IMessageDeserializer deserializer, byte[] bytes)
    {
        SerializerContext context;
        try
        {
            context = deserializer.Deserialize(new BytesMessageBody(bytes), new DictionarySendHeaders());
        }
        catch (Exception e)
        {
            return $"deserialize threw {e.GetType().Name}: {e.Message} / {e.InnerException?.Message}";
        }

        try
        {
            return context.TryGetMessage<ModelRegistered>(out var message)
                ? "read " + JsonSerializer.Serialize(message, SystemTextJsonMessageSerializer.Options)
                : "no message";
        }
        catch (Exception e) when (e is JsonException or InvalidModelRegistrationException)
        {
            // The same step: MassTransit's says what System.Text.Json says, ours names the field (the next test).
            return "read refused the body";
        }
        catch (Exception e)
        {
            return $"read threw {e.GetType().Name}: {e.Message}";
        }
    }
}
