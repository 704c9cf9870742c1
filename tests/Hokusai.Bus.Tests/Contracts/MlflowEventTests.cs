using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// The MLflow-event shape against the known answers that the pipeline's own publisher produced
/// (<c>TestData/mlflow-event.json</c>): body bytes, signature and idempotency key.
/// </summary>
public sealed class MlflowEventTests
{
    private static MlflowVector Vector(string name) => TestVectors.Mlflow.Single(v => v.Name == name);

    /// <summary>The vector's registration as a .NET producer publishes it in the guide's shape.</summary>
    internal static ModelRegistered AsGuideRegistration(MlflowVector vector)
    {
        var m = vector.Message;
        string? Text(string key) => m[key] is JsonValue value ? value.GetValue<string>() : null;
        var timestamp = Text("timestamp")!.Split(' ')[0]; // "2026-07-21T15:04:05.123456 (naive UTC datetime)"
        return new ModelRegistered
        {
            ModelId = Text("model_id")!,
            TokenSymbol = Text("token_symbol")!,
            RegisteredVersion = Text("model_version")!,
            Timestamp = DateTimeOffset.Parse(timestamp + "Z", System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime(),
            BaselineMetrics = new Dictionary<string, double> { [Text("metric_name")!] = m["baseline_value"]!.GetValue<double>() },
            Metadata = new ModelMetadata
            {
                ModelName = Text("model_name"),
                MlflowRunId = Text("mlflow_run_id"),
                Tags = m["tags"] is JsonObject tags ? tags.ToDictionary(t => t.Key, t => t.Value!.GetValue<string>()) : null,
                ApiSchema = m["api_schema"] is JsonObject schema ? JsonSerializer.SerializeToElement(schema) : null,
                EvalSpec = Text("eval_spec"),
                ScorerRef = Text("scorer_ref"),
                PrimaryMetric = Text("primary_metric"),
                BenchmarkSpecId = Text("benchmark_spec_id"),
                MetricName = Text("metric_name"),
                CurrentValue = m["current_value"]!.GetValue<double>(),
            },
        };
    }

    [Theory]
    [MemberData(nameof(TestVectors.MlflowNames), MemberType = typeof(TestVectors))]
    public void A_guide_registration_serializes_to_the_pipelines_exact_bytes_key_and_signature(string name)
    {
        var vector = Vector(name);
        var registration = AsGuideRegistration(vector);

        var body = MlflowEvent.Serialize(registration);

        Assert.Equal(Encoding.UTF8.GetString(vector.Body), Encoding.UTF8.GetString(body));
        Assert.Equal(vector.IdempotencyKey, IdempotencyKey.For(registration));
        Assert.Equal(vector.Signature, new WebhookSigner(vector.Secret, SignatureFormat.Sha256Prefixed).Sign(body));
        Assert.Equal(MlflowEvent.UserAgent, vector.Headers["User-Agent"]);
    }

    [Theory]
    [MemberData(nameof(TestVectors.MlflowNames), MemberType = typeof(TestVectors))]
    public void An_event_read_and_written_again_is_byte_for_byte_the_same_with_its_header_key(string name)
    {
        var vector = Vector(name);

        Assert.True(MlflowEvent.TryDeserialize(vector.Body, vector.IdempotencyKey, out var registration, out var error), error);

        Assert.Equal(vector.Body, MlflowEvent.Serialize(registration));
        Assert.Equal(vector.IdempotencyKey, IdempotencyKey.For(registration));
        Assert.Empty(ModelRegisteredValidation.Validate(registration));
        // And the registration survives the bus: the guide's JSON, read back, still writes the same event.
        var overTheBus = ModelRegisteredJson.Deserialize(ModelRegisteredJson.Serialize(registration));
        Assert.Equal(vector.Body, MlflowEvent.Serialize(overTheBus));
    }

    [Fact]
    public void The_event_maps_onto_the_guides_fields()
    {
        var vector = Vector("KAT3");

        Assert.True(MlflowEvent.TryDeserialize(vector.Body, vector.IdempotencyKey, out var r, out _));

        Assert.Equal("msg-ai", r.ModelId); // the event carries model.id only
        Assert.Equal("msg-ai", r.TokenSymbol);
        Assert.Equal("3", r.RegisteredVersion);
        Assert.Equal(new DateTimeOffset(2026, 7, 21, 15, 4, 5, TimeSpan.Zero).AddTicks(1_234_560), r.Timestamp);
        Assert.Equal("Modèle é✓", r.Metadata.ModelName);
        Assert.Equal("abc123", r.Metadata.MlflowRunId);
        Assert.Equal("u-9", r.Metadata.UserId);
        Assert.Equal("registered", r.Metadata.Status);
        Assert.Equal("technical_task_router/v1", r.Metadata.EvalSpec);
        Assert.Equal("""{"inputSchema":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]},"outputSchema":{"type":"object"}}""",
            r.Metadata.ApiSchema!.Value.GetRawText());
        Assert.Empty(r.BaselineMetrics);
    }

    [Theory]
    [InlineData("""{"event_type":"model_registered","model":{"name":"n","version":"1"},"timestamp":"2026-07-21T15:04:05Z"}""", "model.id is required.")]
    [InlineData("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":{"v":1}},"timestamp":"2026-07-21T15:04:05Z"}""", "model.version has the wrong JSON type")]
    [InlineData("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":3},"timestamp":"2026-07-21T15:04:05Z"}""", "model.version has the wrong JSON type: it must be a string, not number.")]
    [InlineData("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":3.5},"timestamp":"2026-07-21T15:04:05Z"}""", "model.version has the wrong JSON type: it must be a string, not number.")]
    [InlineData("""{"event_type":"model_registered","model":{"id":7,"name":"n","version":"1"},"timestamp":"2026-07-21T15:04:05Z"}""", "model.id has the wrong JSON type: it must be a string, not number.")]
    [InlineData("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":"1"},"timestamp":"yesterday"}""", "timestamp must be ISO 8601")]
    [InlineData("""{"event_type":"model_registered","timestamp":"2026-07-21T15:04:05Z"}""", "model is required")]
    [InlineData("""{"event_type":"deltaone.evaluation","model":{}}""", "event_type must be \"model_registered\"; got 'deltaone.evaluation'.")]
    [InlineData("""[1,2]""", "The body must be a JSON object")]
    [InlineData("""{"event_type":""", "The body is not valid JSON")]
    public void A_bad_event_is_refused_naming_the_field(string body, string reason)
    {
        Assert.False(MlflowEvent.TryDeserialize(Encoding.UTF8.GetBytes(body), null, out _, out var error));
        Assert.StartsWith(reason, error);
    }

    [Fact]
    public void An_event_already_on_the_bus_with_a_number_for_its_version_is_still_read_as_its_text()
    {
        // Accepted by /ingest before it refused numbers; the consumer still delivers it rather than dead-letter it.
        var queued = new PipelineEvent
        {
            EventType = MlflowEvent.ModelRegisteredType,
            Shape = PipelineEventShape.Mlflow,
            Body = Encoding.UTF8.GetBytes("""{"event_type":"model_registered","model":{"id":"a","name":"n","version":3.5},"timestamp":"2026-07-21T15:04:05Z"}"""),
        };

        Assert.Equal("3.5", queued.ToRegistration().RegisteredVersion);
    }

    [Fact]
    public void Strings_are_escaped_as_pythons_json_dumps_escapes_them()
    {
        var registration = AsGuideRegistration(Vector("KAT2")) with { };
        registration = registration with
        {
            Metadata = registration.Metadata with { ModelName = "a\"b\\c/d\n\r\t\b\f\u0001\u007f é😀" },
        };

        var body = Encoding.ASCII.GetString(MlflowEvent.Serialize(registration));

        // json.dumps("a\"b\\c/d\n\r\t\b\f\x01\x7f é😀", separators=(",", ":")) in Python 3.11:
        Assert.Contains("\"name\":\"a\\\"b\\\\c/d\\n\\r\\t\\b\\f\\u0001\\u007f \\u00e9\\ud83d\\ude00\"", body);
    }

    [Theory]
    [InlineData("""{"user_id":"","fulfilled_by_user_id":"u-2"}""", ",\"user_id\":\"u-2\"")]
    [InlineData("""{"user_id":"","fulfilled_by_user_id":""}""", null)]
    [InlineData("""{"fulfilled_by_user_id":"u-3","user_id":"u-1"}""", ",\"user_id\":\"u-1\"")]
    public void User_id_comes_from_the_tags_as_the_pipeline_takes_it_and_an_empty_one_is_left_out(string tags, string? expected)
    {
        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(
            """{"model_id":"m","registered_version":"1","timestamp":"2024-01-15T10:30:00Z","token_symbol":"T","metadata":{"tags":TAGS}}""".Replace("TAGS", tags, StringComparison.Ordinal)));

        var body = Encoding.UTF8.GetString(MlflowEvent.Serialize(registration));

        if (expected is null)
        {
            Assert.DoesNotContain("user_id", body, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(expected, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_registration_without_a_model_name_is_named_by_its_model_id_and_user_id_comes_from_tags()
    {
        var registration = new ModelRegistered
        {
            ModelId = "model_abc123",
            TokenSymbol = "TOKEN_ABC",
            RegisteredVersion = "1",
            Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
            Metadata = new ModelMetadata { Tags = new Dictionary<string, string> { ["fulfilled_by_user_id"] = "u-1" } },
        };

        Assert.Equal(
            """{"event_type":"model_registered","model":{"id":"token_abc","name":"model_abc123","status":"registered","version":"1","user_id":"u-1"},"timestamp":"2024-01-15T10:30:00Z","source":"mlflow"}""",
            Encoding.UTF8.GetString(MlflowEvent.Serialize(registration)));
    }
}

/// <summary>Messages published before the metadata fields had names still read, and write the same JSON.</summary>
public sealed class MetadataFieldsCompatibilityTests
{
    [Fact]
    public void A_message_that_sent_the_new_fields_as_free_metadata_keys_writes_the_same_json_and_reads_them_by_name()
    {
        const string before = """
            {"model_id":"m","idempotency_key":"k","registered_version":"1","timestamp":"2024-01-15T10:30:00Z",
             "token_symbol":"T","baseline_metrics":{"accuracy":0.8},
             "metadata":{"model_name":"n","proposal_identifier":"P","status":"registered","current_value":"0.9",
                         "improvement_percentage":12.5,"api_schema":{"b":[1,2.50,{"c":null}],"a":"é"},"eval_spec":"e/v1",
                         "user_id":"u","metric_name":"accuracy"}}
            """;

        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(before));
        var after = JsonNode.Parse(ModelRegisteredJson.Serialize(registration))!;

        Assert.Equal(0.9, registration.Metadata.CurrentValue); // a numeric string, as Python producers have sent it
        Assert.Equal(12.5, registration.Metadata.ImprovementPercentage);
        Assert.Equal("""{"b":[1,2.50,{"c":null}],"a":"é"}""", registration.Metadata.ApiSchema!.Value.GetRawText());
        Assert.Equal("P", registration.Metadata.Extra!["proposal_identifier"].GetString());
        var expected = JsonNode.Parse(before)!;
        expected["metadata"]!["current_value"] = 0.9; // the one change: the number is written as a number
        Assert.True(JsonNode.DeepEquals(expected, after), after.ToJsonString());
    }

    [Theory]
    [InlineData("\"current_value\":\"n/a\"", "metadata.current_value must be a number")]
    [InlineData("\"improvement_percentage\":[1]", "metadata.improvement_percentage must be a number")]
    [InlineData("\"current_value\":1e400", "metadata.current_value must be a finite number")]
    public void A_value_that_is_not_a_number_is_refused_naming_the_field(string field, string reason)
    {
        var json = "{\"model_id\":\"m\",\"registered_version\":\"1\",\"timestamp\":\"2024-01-15T10:30:00Z\",\"token_symbol\":\"T\","
                   + "\"metadata\":{" + field + "}}";

        Assert.False(ModelRegisteredJson.TryDeserialize(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.StartsWith(reason, error);
    }
}
