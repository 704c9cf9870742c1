using Hokusai.Bus.TestSupport;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>The webhook body: what receivers parse, and the exact bytes that are signed.</summary>
public sealed class ModelRegisteredJsonTests
{
    // The guide's send_test_webhook payload, as Python's json.dumps writes it (metadata: model_name and "test": true).
    private const string GuideTestPayload =
        """{"model_id": "test_model_001", "idempotency_key": "0f8fad5b-d9cb-469f-a165-70867728950e", "registered_version": "1", "timestamp": "2024-01-15T10:30:00.123456Z", "token_symbol": "TEST_TOKEN", "baseline_metrics": {"accuracy": 0.95}, "metadata": {"model_name": "test-model", "test": true}}""";

    // The same payload as Python's json.dumps(payload, separators=(",", ":")) writes it.
    private const string GuideTestPayloadCompact =
        """{"model_id":"test_model_001","idempotency_key":"0f8fad5b-d9cb-469f-a165-70867728950e","registered_version":"1","timestamp":"2024-01-15T10:30:00.123456Z","token_symbol":"TEST_TOKEN","baseline_metrics":{"accuracy":0.95},"metadata":{"model_name":"test-model","test":true}}""";

    [Fact]
    public void The_seed_payload_reads_with_every_field()
    {
        var registration = ModelRegisteredJson.Deserialize(TestVectors.SeedFile());

        Assert.Equal("model_abc123", registration.ModelId);
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", registration.IdempotencyKey);
        Assert.Equal("1", registration.RegisteredVersion);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero), registration.Timestamp);
        Assert.Equal(TimeSpan.Zero, registration.Timestamp.Offset);
        Assert.Equal("TOKEN_ABC", registration.TokenSymbol);
        Assert.Equal(2, registration.BaselineMetrics.Count);
        Assert.Equal(0.85, registration.BaselineMetrics["accuracy"]);
        Assert.Equal(0.82, registration.BaselineMetrics["f1_score"]);

        var metadata = registration.Metadata;
        Assert.Equal("sentiment-analyzer", metadata.ModelName);
        Assert.Equal("run_xyz789", metadata.MlflowRunId);
        // 39 hex digits, as the guide has it (not a valid 40-digit address): passed through unchanged.
        Assert.Equal("0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb", metadata.ContributorAddress);
        Assert.Equal(41, metadata.ContributorAddress!.Length);
        Assert.Equal("production-models", metadata.ExperimentName);
        Assert.Equal(
            new Dictionary<string, string> { ["environment"] = "production", ["model_type"] = "classification" },
            metadata.Tags);
        Assert.Null(metadata.Extra);
        Assert.Null(registration.Extra);
    }

    [Fact]
    public void The_seed_payload_re_serializes_to_pythons_compact_bytes_and_their_known_signature()
    {
        var compact = TestVectors.Named(TestVectors.CompactSeedName);
        var seed = TestVectors.SeedFile();

        var body = ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(seed));

        Assert.Equal(Encoding.UTF8.GetString(compact.Body), Encoding.UTF8.GetString(body)); // readable diff on failure
        Assert.Equal(compact.Body, body);
        Assert.Equal("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7",
            new WebhookSigner(compact.Secret).Sign(body));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(seed), JsonNode.Parse(body)));
    }

    [Fact]
    public void Pythons_default_separators_read_the_same_and_write_compact()
    {
        var spaced = TestVectors.Named("seed payload, python json.dumps default separators");

        var body = ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(spaced.Body));

        Assert.Equal(TestVectors.Named(TestVectors.CompactSeedName).Body, body);
    }

    [Fact]
    public void The_guides_test_payload_keeps_test_true_and_gains_no_null_keys()
    {
        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(GuideTestPayload));

        Assert.Equal("test-model", registration.Metadata.ModelName);
        Assert.Null(registration.Metadata.MlflowRunId);
        var test = Assert.Single(registration.Metadata.Extra!);
        Assert.Equal("test", test.Key);
        Assert.Equal(JsonValueKind.True, test.Value.ValueKind);

        var body = Encoding.UTF8.GetString(ModelRegisteredJson.Serialize(registration));

        Assert.Equal(GuideTestPayloadCompact, body);
        Assert.DoesNotContain("null", body);
        Assert.DoesNotContain("mlflow_run_id", body);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(GuideTestPayload), JsonNode.Parse(body)));
    }

    [Fact]
    public void Unknown_top_level_keys_survive_a_round_trip()
    {
        var json = Encoding.UTF8.GetString(TestVectors.SeedFile()).Replace(
            "\"model_id\"",
            "\"event_type\": \"model_registered\", \"source\": {\"pipeline\": \"hokusai\", \"ids\": [1, 2.5, null, true]}, \"model_id\"",
            StringComparison.Ordinal);

        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json));

        Assert.NotNull(registration.Extra);
        Assert.Equal(["event_type", "source"], registration.Extra.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("model_registered", registration.Extra["event_type"].GetString());

        var body = ModelRegisteredJson.Serialize(registration);

        var written = JsonNode.Parse(body)!;
        Assert.Equal("model_registered", written["event_type"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), written));
    }

    [Theory]
    [InlineData("2024-01-15T10:30:00.123456", "2024-01-15T10:30:00.123456Z")] // Python's datetime.utcnow().isoformat()
    [InlineData("2024-01-15T10:30:00.123456Z", "2024-01-15T10:30:00.123456Z")] // the guide's test payload: isoformat() + "Z"
    [InlineData("2024-01-15T12:30:00+02:00", "2024-01-15T10:30:00Z")]
    [InlineData("2024-01-15T05:30:00-05:00", "2024-01-15T10:30:00Z")]
    [InlineData("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z")]
    [InlineData("2024-01-15T10:30:00.500Z", "2024-01-15T10:30:00.5Z")] // trailing zeros trimmed
    public void Timestamps_are_read_as_instants_and_written_in_utc_with_Z(string given, string written)
    {
        var registration = Read($$"""{"timestamp": "{{given}}"}""");

        Assert.Equal(TimeSpan.Zero, registration.Timestamp.Offset);
        Assert.Equal(written, JsonNode.Parse(ModelRegisteredJson.Serialize(registration))!["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void A_timestamp_without_a_zone_is_utc_not_local_time()
    {
        // Tells UTC from local time only where the local zone is not UTC: also run with TZ=Asia/Tokyo.
        var registration = Read("""{"timestamp": "2024-01-15T10:30:00.123456"}""");

        Assert.Equal(
            new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero).AddTicks(1_234_560),
            registration.Timestamp);
        Assert.Equal(TimeSpan.Zero, registration.Timestamp.Offset);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"\"")]
    [InlineData("\"2024-13-45T10:30:00Z\"")]
    [InlineData("1705314600")]
    [InlineData("null")]
    public void A_timestamp_that_is_not_a_date_throws_a_JsonException_naming_timestamp(string value)
    {
        var error = Assert.ThrowsAny<JsonException>(() => Read($$"""{"model_id": "m", "timestamp": {{value}}}"""));

        Assert.Contains("timestamp", error.Message);
    }

    [Fact]
    public void A_numeric_registered_version_reads_as_a_string_and_is_written_as_one()
    {
        var registration = Read("""{"registered_version": 3}""");

        Assert.Equal("3", registration.RegisteredVersion);
        Assert.Contains("\"registered_version\":\"3\"", Encoding.UTF8.GetString(ModelRegisteredJson.Serialize(registration)));
    }

    [Fact]
    public void Json_null_throws_a_JsonException()
    {
        var error = Assert.ThrowsAny<JsonException>(() => Read("null"));

        Assert.Contains("null", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"model_id\": ")]
    [InlineData("{\"model_id\": \"m\",}")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{} {}")]
    public void Malformed_json_throws_a_JsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => Read(json));
    }

    [Fact]
    public void Non_ascii_metadata_round_trips_as_readable_utf8()
    {
        var registration = new ModelRegistered
        {
            ModelId = "m",
            TokenSymbol = "T",
            RegisteredVersion = "1",
            Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
            Metadata = new ModelMetadata
            {
                ModelName = "modèle-模型",
                Tags = new Dictionary<string, string> { ["note"] = "✓" },
            },
        };

        var body = ModelRegisteredJson.Serialize(registration);
        var text = Encoding.UTF8.GetString(body);

        Assert.Contains("\"model_name\":\"modèle-模型\"", text); // raw UTF-8, not \u escapes
        Assert.DoesNotContain("\\u", text);
        var read = ModelRegisteredJson.Deserialize(body);
        Assert.Equal("modèle-模型", read.Metadata.ModelName);
        Assert.Equal("✓", read.Metadata.Tags!["note"]);
        Assert.Equal(body, ModelRegisteredJson.Serialize(read));
    }

    [Fact]
    public void Escaped_non_ascii_from_python_reads_as_the_same_text()
    {
        // Python's json.dumps escapes non-ASCII by default (ensure_ascii=True).
        var registration = Read("""{"metadata": {"model_name": "mod\u00e8le-\u6a21\u578b"}}""");

        Assert.Equal("modèle-模型", registration.Metadata.ModelName);
    }

    // The source-generated serializer passes null for absent init-only properties (dotnet/runtime#84484).
    [Fact]
    public void A_payload_without_metadata_or_metrics_reads_them_as_empty()
    {
        var registration = Read(
            """{"model_id": "model_abc123", "registered_version": "1", "timestamp": "2024-01-15T10:30:00Z", "token_symbol": "TOKEN_ABC"}""");

        Assert.Empty(ModelRegisteredValidation.Validate(registration));
        Assert.NotNull(registration.Metadata);
        Assert.NotNull(registration.BaselineMetrics);
        Assert.Equal(IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", null, "1"), IdempotencyKey.For(registration));
        Assert.DoesNotContain("null", Encoding.UTF8.GetString(ModelRegisteredJson.Serialize(registration)));
    }

    [Fact]
    public void Odd_metadata_formats_never_fail_a_delivery()
    {
        var registration = Read(
            """{"metadata": {"model_name": 42, "tags": {"epochs": 10, "final": true, "name": "x", "nested": {"a": [1, 2]}}}}""");

        Assert.Equal("42", registration.Metadata.ModelName);
        Assert.Equal("10", registration.Metadata.Tags!["epochs"]);
        Assert.Equal("true", registration.Metadata.Tags["final"]);
        Assert.Equal("x", registration.Metadata.Tags["name"]);
        Assert.Equal("{\"a\": [1, 2]}", registration.Metadata.Tags["nested"]);
    }

    private static ModelRegistered Read(string json) => ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json));
}
