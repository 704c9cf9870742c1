using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

public sealed class ModelRegisteredJsonTests
{
    private static readonly byte[] Seed =
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json"));

    [Fact]
    public void The_guides_example_reads_with_every_field()
    {
        var registration = ModelRegisteredJson.Deserialize(Seed);

        Assert.Equal("model_abc123", registration.ModelId);
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", registration.IdempotencyKey);
        Assert.Equal("1", registration.RegisteredVersion);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero), registration.Timestamp);
        Assert.Equal("TOKEN_ABC", registration.TokenSymbol);
        Assert.Equal(0.85, registration.BaselineMetrics["accuracy"]);
        Assert.Equal(0.82, registration.BaselineMetrics["f1_score"]);
        Assert.Equal("sentiment-analyzer", registration.Metadata.ModelName);
        Assert.Equal("run_xyz789", registration.Metadata.MlflowRunId);
        Assert.Equal("0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb", registration.Metadata.ContributorAddress); // 39 hex digits, as documented
        Assert.Equal("production-models", registration.Metadata.ExperimentName);
        Assert.Equal("classification", registration.Metadata.Tags!["model_type"]);
    }

    [Fact]
    public void The_guides_example_re_serializes_to_pythons_compact_bytes_and_their_known_signature()
    {
        var body = ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(Seed));

        Assert.Equal(SignatureVectorTests.CompactSeedBody(), body);
        Assert.Equal("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7",
            new WebhookSigner("your_shared_secret_here").Sign(body));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Seed), JsonNode.Parse(body)));
    }

    [Fact]
    public void The_guides_test_payload_keeps_unknown_metadata_and_gains_no_nulls()
    {
        const string payload = """
            {"model_id": "test_model_001", "idempotency_key": "k", "registered_version": "1",
             "timestamp": "2026-11-29T10:00:00.123456Z", "token_symbol": "TEST_TOKEN",
             "baseline_metrics": {"accuracy": 0.95}, "metadata": {"model_name": "test-model", "test": true}}
            """;

        var body = Encoding.UTF8.GetString(ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(payload))));

        Assert.Contains("\"metadata\":{\"model_name\":\"test-model\",\"test\":true}", body);
        Assert.DoesNotContain("null", body);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(payload), JsonNode.Parse(body)));
    }

    [Fact]
    public void Unknown_top_level_keys_survive_a_round_trip()
    {
        var json = Encoding.UTF8.GetString(Seed).Replace("\"model_id\"", "\"event_type\": \"model_registered\", \"model_id\"", StringComparison.Ordinal);

        var body = ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json)));

        Assert.Equal("model_registered", JsonNode.Parse(body)!["event_type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("2024-01-15T10:30:00.123456", "2024-01-15T10:30:00.123456Z")] // Python's utcnow().isoformat()
    [InlineData("2024-01-15T12:30:00+02:00", "2024-01-15T10:30:00Z")]
    [InlineData("2024-01-15T10:30:00.500Z", "2024-01-15T10:30:00.5Z")]
    public void Timestamps_are_written_in_utc_with_Z(string given, string written)
    {
        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes($"{{\"timestamp\": \"{given}\"}}"));

        Assert.Equal(written, JsonNode.Parse(ModelRegisteredJson.Serialize(registration))!["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void A_numeric_registered_version_reads_as_a_string()
    {
        Assert.Equal("3", ModelRegisteredJson.Deserialize("{\"registered_version\": 3}"u8).RegisteredVersion);
    }

    [Theory]
    [InlineData("{\"timestamp\": \"yesterday\"}", "timestamp")]
    [InlineData("null", "null")]
    [InlineData("{\"model_id\": ", "")]
    public void Bad_json_throws_a_JsonException_that_says_what(string json, string mentions)
    {
        var error = Assert.ThrowsAny<JsonException>(() => ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(mentions, error.Message);
    }

    [Fact]
    public void Non_ascii_metadata_round_trips_as_utf8()
    {
        var registration = new ModelRegistered
        {
            ModelId = "m",
            TokenSymbol = "T",
            RegisteredVersion = "1",
            Timestamp = DateTimeOffset.UnixEpoch,
            Metadata = new ModelMetadata { ModelName = "modèle-模型" },
        };

        var body = ModelRegisteredJson.Serialize(registration);

        Assert.Contains("modèle-模型", Encoding.UTF8.GetString(body));
        Assert.Equal("modèle-模型", ModelRegisteredJson.Deserialize(body).Metadata.ModelName);
    }
}
