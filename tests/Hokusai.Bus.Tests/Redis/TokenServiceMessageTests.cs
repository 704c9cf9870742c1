using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Redis;

/// <summary><c>REDIS_MESSAGE_FORMAT=token-service</c>: the bare message the token service validates, or a refusal naming the rule.</summary>
public sealed class TokenServiceMessageTests
{
    private static ModelRegistered Registration(string metadata, string symbol = "MSG-AI", string metrics = """{"reply_rate":0.5}""") =>
        ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(
            $$"""
            {"model_id":"hokusai-msg-ai/3/msg-ai","idempotency_key":"k","registered_version":"3","timestamp":"2026-07-21T15:04:05.123456Z",
             "token_symbol":"{{symbol}}","baseline_metrics":{{metrics}},"metadata":{{metadata}}}
            """));

    [Fact]
    public void A_complete_registration_becomes_the_bare_message_with_only_the_services_keys()
    {
        var registration = Registration("""
            {"model_name":"hokusai-msg-ai","mlflow_run_id":"abc123","current_value":0.6,"status":"registered",
             "contributor_address":"0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb0","experiment_name":"prod","tags":{"user_id":"u-1"},
             "model_supplier_recipient":"0x00000000000000000000000000000000000000aB","api_schema":{"a":1},"proposal_identifier":"P"}
            """, symbol: "msg-ai");

        var message = JsonNode.Parse(TokenServiceMessage.Of(registration))!.AsObject();

        Assert.Equal(
            ["model_id", "token_symbol", "metric_name", "baseline_value", "current_value", "model_name", "model_version",
             "mlflow_run_id", "improvement_percentage", "timestamp", "message_version", "contributor_address",
             "model_supplier_recipient", "experiment_name", "tags"],
            message.Select(p => p.Key));
        Assert.Equal("MSG-AI", (string?)message["token_symbol"]); // the MLflow event's lowercased model.id, uppercased
        Assert.Equal("reply_rate", (string?)message["metric_name"]);
        Assert.Equal(0.5, (double?)message["baseline_value"]);
        Assert.Equal(0.6, (double?)message["current_value"]);
        Assert.Equal(20.0, (double)message["improvement_percentage"]!, 9); // derived: (0.6 - 0.5) / 0.5 × 100
        Assert.Equal("3", (string?)message["model_version"]);
        Assert.Equal("2026-07-21T15:04:05.123456Z", (string?)message["timestamp"]);
        Assert.Equal("1.0", (string?)message["message_version"]);
        Assert.Equal("u-1", (string?)message["tags"]!["user_id"]);
    }

    [Fact]
    public void The_current_value_is_derived_from_an_improvement_percentage_and_optional_keys_are_left_out()
    {
        var message = JsonNode.Parse(TokenServiceMessage.Of(Registration(
            """{"model_name":"n","mlflow_run_id":"r","improvement_percentage":10}""")))!.AsObject();

        Assert.Equal(0.55, (double)message["current_value"]!, 12);
        Assert.Equal(10.0, (double?)message["improvement_percentage"]);
        Assert.False(message.ContainsKey("contributor_address"));
        Assert.False(message.ContainsKey("tags"));
        Assert.False(message.ContainsKey("experiment_name"));
    }

    [Theory]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r"}""", "MSG-AI", "current_value must be greater than 0 for the token service: set metadata.current_value or metadata.improvement_percentage; there is neither.")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.4}""", "MSG-AI", "improvement_percentage must be greater than 0 for the token service; it is -20.")]
    [InlineData("""{"mlflow_run_id":"r","current_value":0.6}""", "MSG-AI", "model_name is required by the token service: set metadata.model_name.")]
    [InlineData("""{"model_name":"n","current_value":0.6}""", "MSG-AI", "mlflow_run_id is required by the token service: set metadata.mlflow_run_id.")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6}""", "TOKEN_ABC", "token_symbol 'TOKEN_ABC' cannot be the token service's token_symbol: uppercased it must match ^[A-Z0-9-]{1,10}$.")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6}""", "SYMBOL-LONGER", "token_symbol 'SYMBOL-LONGER' cannot be")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6,"contributor_address":"0x12"}""", "MSG-AI", "contributor_address '0x12' must be 0x and 40 hex digits")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6,"model_supplier_recipient":7}""", "MSG-AI", "metadata.model_supplier_recipient must be a string")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6,"model_supplier_recipient":"0xabc"}""", "MSG-AI", "model_supplier_recipient '0xabc' must be 0x and 40 hex digits")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6,"experiment_name":""}""", "MSG-AI", "experiment_name must not be empty for the token service.")]
    [InlineData("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6,"tags":{"note":""}}""", "MSG-AI", "tags.note must not be empty for the token service.")]
    public void A_registration_that_would_need_invented_data_is_refused_naming_the_rule(string metadata, string symbol, string reason)
    {
        var error = Assert.Throws<InvalidModelRegistrationException>(() => TokenServiceMessage.Of(Registration(metadata, symbol)));

        Assert.Contains(error.Errors, e => e.StartsWith(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void The_guides_own_example_address_has_39_hex_digits_and_is_refused_rather_than_dropped()
    {
        var guide = ModelRegisteredJson.Deserialize(TestVectors.SeedFile());

        var error = Assert.Throws<InvalidModelRegistrationException>(() => TokenServiceMessage.Of(guide));

        Assert.Contains(error.Errors, e => e.StartsWith("contributor_address '0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb' must be 0x and 40 hex digits", StringComparison.Ordinal));
    }

    [Fact]
    public void No_baseline_metric_is_refused_naming_both_places_it_could_come_from()
    {
        var error = Assert.Throws<InvalidModelRegistrationException>(() => TokenServiceMessage.Of(
            Registration("""{"model_name":"n","mlflow_run_id":"r","current_value":0.6}""", metrics: "{}")));

        Assert.Contains("metric_name is required by the token service: set metadata.metric_name or baseline_metrics.", error.Errors);
    }

    [Fact]
    public void A_pipeline_registration_ingested_in_the_mlflow_shape_lacks_the_metric_and_is_refused_not_invented()
    {
        var vector = TestVectors.Mlflow[0];
        Assert.True(MlflowEvent.TryDeserialize(vector.Body, vector.IdempotencyKey, out var registration, out _));

        var error = Assert.Throws<InvalidModelRegistrationException>(() => TokenServiceMessage.Of(registration));

        Assert.Contains(error.Errors, e => e.StartsWith("metric_name is required", StringComparison.Ordinal));
    }

    [Fact]
    public void The_vectors_registration_in_the_guides_shape_is_accepted()
    {
        var registration = MlflowEventTests.AsGuideRegistration(TestVectors.Mlflow[0]) with
        {
            Metadata = MlflowEventTests.AsGuideRegistration(TestVectors.Mlflow[0]).Metadata with { CurrentValue = 0.55 },
        };

        var message = JsonNode.Parse(TokenServiceMessage.Of(registration))!.AsObject();

        Assert.Equal("MSG-AI", (string?)message["token_symbol"]);
        Assert.Equal(10.0, (double)message["improvement_percentage"]!, 9);
    }
}
