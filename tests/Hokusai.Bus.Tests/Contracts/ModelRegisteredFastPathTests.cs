using System.Text;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// The one-pass read of the usual registration gives exactly the record System.Text.Json's reader gives, and leaves
/// every other body (and so every error) to it. Checked over the guide's seed and several hundred variations of it:
/// each top-level field given every JSON type and the awkward values a producer might send.
/// </summary>
public sealed class ModelRegisteredFastPathTests
{
    private static readonly string Seed = Encoding.UTF8.GetString(TestVectors.SeedFile());

    [Fact]
    public void The_guide_seed_and_the_pipeline_shaped_payload_are_read_in_one_pass_to_the_serializers_record()
    {
        const string pipeline = """{"model_id": "m", "idempotency_key": "k", "registered_version": 3, "timestamp": "2026-12-07T10:00:00.123456", "token_symbol": "T", "baseline_metrics": {"accuracy": 0.85}, "metadata": {"model_name": "x", "padding": "yyy", "tags": {"a": 1}}}""";
        foreach (var body in new[] { Seed, pipeline })
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var fast = ModelRegisteredFastPath.TryRead(bytes);

            Assert.NotNull(fast);
            AssertSame(JsonSerializer.Deserialize<ModelRegistered>(bytes, ModelRegisteredJson.Options)!, fast);
        }
    }

    [Theory]
    [InlineData("""{"model_id": "m", "extra_key": 1}""")] // kept as extension data, by the serializer
    [InlineData("""{"model_id": "m", "model_id": "n"}""")] // a key twice
    [InlineData("""{"baseline_metrics": {"a": 1, "a": 2}}""")] // a metric twice
    [InlineData("""{"model_id": 5}""")] // the wrong JSON type, for the serializer to name
    [InlineData("""{"timestamp": null}""")]
    [InlineData("""{"model_id": "m"} trailing""")]
    [InlineData("""{"model_id": "m",}""")]
    [InlineData("[]")]
    [InlineData("null")]
    public void A_body_outside_the_usual_shape_is_left_to_the_serializer(string body) =>
        Assert.Null(ModelRegisteredFastPath.TryRead(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Every_variation_of_the_seed_reads_as_the_serializer_reads_it_or_is_left_to_it()
    {
        var (taken, left) = (0, 0);
        foreach (var body in Variations())
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var fast = ModelRegisteredFastPath.TryRead(bytes);
            ModelRegistered? expected;
            try
            {
                expected = JsonSerializer.Deserialize<ModelRegistered>(bytes, ModelRegisteredJson.Options);
            }
            catch (JsonException)
            {
                expected = null;
            }

            if (fast is null)
            {
                left++;
                continue;
            }

            taken++;
            Assert.True(expected is not null, $"the fast path read a body the serializer refuses: {body}");
            AssertSame(expected, fast, body);
        }

        // Both halves exercised: most variations are usual registrations, the rest go to the serializer.
        Assert.True(taken > 100, $"{taken} taken");
        Assert.True(left > 100, $"{left} left");
    }

    /// <summary>The seed with one top-level field replaced, removed or repeated, and whole-body oddities.</summary>
    private static IEnumerable<string> Variations()
    {
        string[] strings =
        [
            "\"\"", "\" \"", "\"m\"", "\"\\u00e9t\\u00e9\"", "\"été ключ 模型\"", "\"a\\r\\nX-Injected: 1\"", "\"\\u0000\"",
            "\"\\ud83d\\ude00\"", "\"" + new string('x', 100_000) + "\"", "\"a\\\"b\\\\c\\/d\"",
        ];
        string[] others =
        [
            "null", "0", "-0", "1", "1.5", "-1e3", "1e400", "12345678901234567890", "true", "false", "{}", "[]", "[1]",
            "{\"a\": 1}", "{\"a\": null}", "{\"a\": \"1\"}", "{\"a\": 1, \"b\": -0.0}", "{\"a\": 1e400}",
        ];
        string[] timestamps =
        [
            "\"2024-01-15T10:30:00Z\"", "\"2024-01-15T10:30:00\"", "\"2024-01-15 10:30:00+02:00\"", "\"2024-01-15T10:30Z\"",
            "\"2024-01-15T10:30:00.1234567-05:30\"", "\"2024-02-30T10:30:00Z\"", "\"01/02/2024 10:30\"", "\"0001-01-01T00:00:00+01:00\"",
            "\"9999-12-31T23:59:59+00:00\"", "\"2024-01-15T24:00:00Z\"",
        ];
        string[] metadata =
        [
            "{\"model_name\": 5, \"mlflow_run_id\": null, \"tags\": {\"a\": 1, \"b\": [1]}, \"current_value\": \"0.5\"}",
            "{\"api_schema\": {\"type\": \"object\"}, \"unknown\": {\"deep\": [1, 2, {\"x\": null}]}}",
            "{\"tags\": \"not an object\"}", "{\"model_name\": {\"nested\": 1}}", "{\"mlflow_run_id\": true}",
        ];
        string[] fields = ["model_id", "idempotency_key", "registered_version", "timestamp", "token_symbol", "baseline_metrics", "metadata"];

        foreach (var field in fields)
        {
            foreach (var value in strings.Concat(others).Concat(timestamps).Concat(metadata))
            {
                yield return Replace(field, value);
            }

            yield return Without(field);
            yield return Seed.Replace("{", "{\"" + field + "\": \"first\", ", StringComparison.Ordinal); // a key twice
        }

        yield return Seed.Replace("\n", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        yield return Seed.Replace("\"model_id\"", "\"model\\u005fid\"", StringComparison.Ordinal); // an escaped key
        yield return Seed.Replace("\"model_id\"", "\"Model_Id\"", StringComparison.Ordinal); // another key to the serializer
        yield return Seed + " ";
        yield return Seed + "{}";
        yield return Seed[..^3];
        yield return Seed.Replace("{", "{/* c */", StringComparison.Ordinal);
        yield return "{}";
        yield return new string('[', 70) + new string(']', 70);
        yield return Replace("metadata", new string('[', 70) + new string(']', 70));
    }

    private static string Replace(string field, string value)
    {
        var document = System.Text.Json.Nodes.JsonNode.Parse(Seed)!.AsObject();
        var rest = string.Join(", ", document.Where(p => p.Key != field).Select(p => $"\"{p.Key}\": {p.Value!.ToJsonString()}"));
        return "{" + rest + (rest.Length > 0 ? ", " : "") + $"\"{field}\": {value}}}";
    }

    private static string Without(string field)
    {
        var document = System.Text.Json.Nodes.JsonNode.Parse(Seed)!.AsObject();
        document.Remove(field);
        return document.ToJsonString();
    }

    private static void AssertSame(ModelRegistered expected, ModelRegistered actual, string body = "")
    {
        var what = body.Length > 300 ? body[..300] : body;
        Assert.True(expected.ModelId == actual.ModelId, what);
        Assert.True(expected.IdempotencyKey == actual.IdempotencyKey, what);
        Assert.True(expected.RegisteredVersion == actual.RegisteredVersion, what);
        Assert.True(expected.TokenSymbol == actual.TokenSymbol, what);
        Assert.True(expected.Timestamp.Ticks == actual.Timestamp.Ticks && expected.Timestamp.Offset == actual.Timestamp.Offset, what);
        Assert.True(expected.BaselineMetrics.SequenceEqual(actual.BaselineMetrics), what);
        Assert.True((expected.Extra is null) == (actual.Extra is null), what);
        Assert.True(expected.Metadata.Extra?.Count == actual.Metadata.Extra?.Count, what);
        if (expected.BaselineMetrics.Values.All(double.IsFinite)) // infinity has no JSON to compare (and TryDeserialize refuses it)
        {
            Assert.True(ModelRegisteredJson.Serialize(expected).AsSpan().SequenceEqual(ModelRegisteredJson.Serialize(actual)), what);
        }
    }
}
