using Hokusai.Bus.TestSupport;
using System.Text;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>Idempotency keys: receivers de-duplicate by them, so they must match the Python pipeline's and stay stable.</summary>
public sealed class IdempotencyKeyTests
{
    private static readonly ModelRegistered Registration = new()
    {
        ModelId = "model_abc123",
        TokenSymbol = "TOKEN_ABC",
        RegisteredVersion = "1",
        Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
        Metadata = new ModelMetadata { MlflowRunId = "run_xyz789" },
    };

    [Theory] // Known answers from the legacy pipeline: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{model_id}:{token}:{run_id}:{version}")),
             // where Python writes an absent run id as the text None.
    [InlineData("model_abc123", "TOKEN_ABC", "run_xyz789", "1", "9381b836-a0fb-5e0a-b604-d176b624d2fb")]
    [InlineData("test-model-123", "test-token", null, "v1.0.0", "d424350b-c0e9-5cc8-b631-ca6e9b3cd471")]
    [InlineData("test-model-123", "test-token", "run-123", "v1.0.0", "633496be-7138-5cbe-8d6a-159ee8efe98d")]
    [InlineData("model_abc123", "TOKEN_ABC", null, "1", "279059bc-bcc2-5dac-acfd-d530337fd8d6")]
    [InlineData("test_model_001", "TEST_TOKEN", null, "1", "473f8e90-479f-5730-aa5f-d9f87cce154a")]
    public void Derive_matches_pythons_uuid5(string modelId, string token, string? runId, string version, string expected)
    {
        Assert.Equal(expected, IdempotencyKey.Derive(modelId, token, runId, version));
    }

    [Fact]
    public void UuidV5_of_non_ascii_hashes_utf8_like_python()
    {
        Assert.Equal("87062273-3481-5cbd-836e-176d6d96d6b7", IdempotencyKey.UuidV5("modèle:TOK::2").ToString());
    }

    [Fact]
    public void Derived_keys_are_version_5_rfc4122_uuids()
    {
        var key = IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "1");

        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", key);
    }

    [Fact]
    public void Derive_is_deterministic_across_calls()
    {
        var first = IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "1");
        var again = IdempotencyKey.Derive(
            new StringBuilder("model_").Append("abc123").ToString(), "TOKEN_ABC", "run_xyz789", "1");

        Assert.Equal(first, again);
        Assert.Equal(first, IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "1"));
    }

    [Fact]
    public void Another_registered_version_gets_another_key()
    {
        Assert.NotEqual(
            IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "1"),
            IdempotencyKey.Derive("model_abc123", "TOKEN_ABC", "run_xyz789", "2"));
        Assert.NotEqual(
            IdempotencyKey.For(Registration),
            IdempotencyKey.For(Registration with { RegisteredVersion = "2" }));
    }

    [Fact]
    public void A_republished_registration_gets_the_same_key()
    {
        var republished = Registration with { Timestamp = Registration.Timestamp.AddMinutes(5) };

        Assert.Equal(IdempotencyKey.For(Registration), IdempotencyKey.For(republished));
        Assert.Equal("9381b836-a0fb-5e0a-b604-d176b624d2fb", IdempotencyKey.For(republished));
    }

    [Fact]
    public void For_keeps_the_key_the_producer_gave()
    {
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000",
            IdempotencyKey.For(Registration with { IdempotencyKey = "550e8400-e29b-41d4-a716-446655440000" }));
        Assert.Equal("given", IdempotencyKey.For(Registration with { IdempotencyKey = "given" }));
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000",
            IdempotencyKey.For(ModelRegisteredJson.Deserialize(TestVectors.SeedFile())));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void For_derives_a_key_when_the_producer_gave_none(string given)
    {
        Assert.Equal("9381b836-a0fb-5e0a-b604-d176b624d2fb", IdempotencyKey.For(Registration with { IdempotencyKey = given }));
    }

    [Fact]
    public void For_derives_the_key_of_a_payload_without_idempotency_key()
    {
        var json = Encoding.UTF8.GetString(TestVectors.SeedFile()).Replace(
            "\"idempotency_key\": \"550e8400-e29b-41d4-a716-446655440000\",", "", StringComparison.Ordinal);
        Assert.DoesNotContain("idempotency_key", json);

        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes(json));

        Assert.Equal("9381b836-a0fb-5e0a-b604-d176b624d2fb", IdempotencyKey.For(registration));
    }
}
