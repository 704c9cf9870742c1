using Hokusai.Bus.TestSupport;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Contracts;

namespace Hokusai.Bus.Tests.Redis;

/// <summary>The legacy Redis wire format, field by field, from the registrations producers send.</summary>
public sealed class LegacyRedisMessageTests
{
    private static ModelRegistered Registration(string json) => ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json));

    private static ModelRegistered GuideExample => ModelRegisteredJson.Deserialize(TestVectors.SeedFile());

    [Fact]
    public void The_guides_example_becomes_the_legacy_envelope_and_payload()
    {
        var (envelope, payload) = LegacyRedisMessage.Of(GuideExample);

        var list = JsonNode.Parse(envelope)!.AsObject();
        Assert.Equal(["message_id", "message_type", "payload", "timestamp", "retry_count", "max_retries"], list.Select(p => p.Key));
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", (string?)list["message_id"]);
        Assert.Equal("model_ready_to_deploy", (string?)list["message_type"]);
        Assert.Equal("2024-01-15T10:30:00", (string?)list["timestamp"]);
        Assert.Equal(0, (int?)list["retry_count"]);
        Assert.Equal(3, (int?)list["max_retries"]);
        Assert.True(JsonNode.DeepEquals(list["payload"], JsonNode.Parse(payload)), "the list's payload is the channel's message");

        var p = JsonNode.Parse(payload)!.AsObject();
        Assert.Equal(
        [
            "model_id", "token_symbol", "metric_name", "baseline_value", "current_value", "model_name", "model_version",
            "mlflow_run_id", "status", "proposal_identifier", "improvement_percentage", "contributor_address",
            "experiment_name", "tags", "api_schema", "eval_spec", "scorer_ref", "primary_metric", "benchmark_spec_id",
            "timestamp", "message_version",
        ], p.Select(x => x.Key));
        Assert.Equal("model_abc123", (string?)p["model_id"]);
        Assert.Equal("TOKEN_ABC", (string?)p["token_symbol"]);
        Assert.Equal("accuracy", (string?)p["metric_name"]); // the first key of baseline_metrics
        Assert.Equal(0.85, (double?)p["baseline_value"]);
        Assert.Equal(0.85, (double?)p["current_value"]); // no improvement given: the baseline itself
        Assert.Equal(0.0, (double?)p["improvement_percentage"]);
        Assert.Equal("sentiment-analyzer", (string?)p["model_name"]);
        Assert.Equal("1", (string?)p["model_version"]);
        Assert.Equal("run_xyz789", (string?)p["mlflow_run_id"]);
        Assert.Equal("registered", (string?)p["status"]);
        Assert.Equal("TOKEN_ABC", (string?)p["proposal_identifier"]);
        Assert.Equal("0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb", (string?)p["contributor_address"]);
        Assert.Equal("production-models", (string?)p["experiment_name"]);
        Assert.Equal("production", (string?)p["tags"]!["environment"]);
        Assert.Null(p["api_schema"]);
        Assert.Null(p["benchmark_spec_id"]);
        Assert.Equal("2024-01-15T10:30:00", (string?)p["timestamp"]);
        Assert.Equal("1.0", (string?)p["message_version"]);
    }

    [Fact]
    public void Improvement_percentage_in_metadata_gives_the_current_value_as_the_legacy_publisher_computed_it()
    {
        var registration = Registration("""
            {"model_id":"m","registered_version":"2","timestamp":"2026-05-17T21:40:44.294Z","token_symbol":"T",
             "baseline_metrics":{"f1":0.8,"accuracy":0.9},"metadata":{"improvement_percentage":5.0}}
            """);

        var p = JsonNode.Parse(LegacyRedisMessage.Of(registration).Payload)!;

        Assert.Equal("f1", (string?)p["metric_name"]);
        Assert.Equal(0.8, (double?)p["baseline_value"]);
        Assert.Equal(0.8 * 1.05, (double)p["current_value"]!, 12);
        Assert.Equal(5.0, (double?)p["improvement_percentage"]);
        Assert.Null(p["mlflow_run_id"]);
        Assert.Null(p["tags"]);
        Assert.Equal("2026-05-17T21:40:44.294000", (string?)p["timestamp"]); // Python's isoformat: six digits, no Z
    }

    [Fact]
    public void Explicit_metric_name_baseline_and_current_value_in_metadata_win()
    {
        var registration = Registration("""
            {"model_id":"m","registered_version":"2","timestamp":"2026-05-17T21:40:44Z","token_symbol":"T",
             "baseline_metrics":{"f1":0.8},
             "metadata":{"metric_name":"auroc","baseline_value":0.7,"current_value":0.77,"proposal_identifier":"P-1",
                         "api_schema":{"type":"object"},"primary_metric":"auroc"}}
            """);

        var p = JsonNode.Parse(LegacyRedisMessage.Of(registration).Payload)!;

        Assert.Equal("auroc", (string?)p["metric_name"]);
        Assert.Equal(0.7, (double?)p["baseline_value"]);
        Assert.Equal(0.77, (double?)p["current_value"]);
        Assert.Equal(10.0, (double)p["improvement_percentage"]!, 9); // (0.77 - 0.7) / 0.7 * 100
        Assert.Equal("P-1", (string?)p["proposal_identifier"]);
        Assert.Equal("object", (string?)p["api_schema"]!["type"]);
        Assert.Equal("auroc", (string?)p["primary_metric"]);
    }

    [Fact]
    public void Without_baseline_metrics_the_metric_fields_are_null_and_nothing_divides_by_zero()
    {
        var registration = Registration("""{"model_id":"m","registered_version":"1","timestamp":"2024-01-15T10:30:00Z","token_symbol":"T"}""");

        var p = JsonNode.Parse(LegacyRedisMessage.Of(registration).Payload)!;

        Assert.Null(p["metric_name"]);
        Assert.Null(p["baseline_value"]);
        Assert.Null(p["current_value"]);
        Assert.Null(p["improvement_percentage"]);
    }

    [Fact]
    public void Non_ascii_text_stays_readable_and_is_valid_json()
    {
        var registration = GuideExample with { Metadata = GuideExample.Metadata with { ModelName = "modèle 🚀 \"quoted\"" } };

        var (envelope, payload) = LegacyRedisMessage.Of(registration);

        Assert.Equal("modèle 🚀 \"quoted\"", JsonDocument.Parse(payload).RootElement.GetProperty("model_name").GetString());
        Assert.Equal("modèle 🚀 \"quoted\"",
            JsonDocument.Parse(envelope).RootElement.GetProperty("payload").GetProperty("model_name").GetString());
    }
}
