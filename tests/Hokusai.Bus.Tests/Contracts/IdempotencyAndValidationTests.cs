using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

public sealed class IdempotencyAndValidationTests
{
    private static readonly ModelRegistered Valid = new()
    {
        ModelId = "model_abc123",
        TokenSymbol = "TOKEN_ABC",
        RegisteredVersion = "1",
        Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
        Metadata = new ModelMetadata { MlflowRunId = "run_xyz789" },
    };

    [Theory] // Known answers from Python: uuid.uuid5(uuid.NAMESPACE_DNS, name)
    [InlineData("model_abc123", "TOKEN_ABC", "run_xyz789", "1", "9381b836-a0fb-5e0a-b604-d176b624d2fb")]
    [InlineData("test_model_001", "TEST_TOKEN", null, "1", "d81edcf8-667e-507b-88df-0fecde6b00b1")]
    public void Derived_keys_match_pythons_uuid5(string model, string token, string? run, string version, string expected)
    {
        Assert.Equal(expected, IdempotencyKey.Derive(model, token, run, version));
    }

    [Fact]
    public void UuidV5_of_non_ascii_matches_python()
    {
        Assert.Equal("87062273-3481-5cbd-836e-176d6d96d6b7", IdempotencyKey.UuidV5("modèle:TOK::2").ToString());
    }

    [Fact]
    public void A_republished_registration_gets_the_same_key_and_another_version_another()
    {
        var again = Valid with { Timestamp = DateTimeOffset.UtcNow };

        Assert.Equal(IdempotencyKey.For(Valid), IdempotencyKey.For(again));
        Assert.NotEqual(IdempotencyKey.For(Valid), IdempotencyKey.For(Valid with { RegisteredVersion = "2" }));
        Assert.Equal("given", IdempotencyKey.For(Valid with { IdempotencyKey = "given" }));
        Assert.Equal(IdempotencyKey.For(Valid), IdempotencyKey.For(Valid with { IdempotencyKey = "  " }));
    }

    [Fact]
    public void A_complete_registration_is_valid_whatever_its_metadata()
    {
        Assert.Empty(ModelRegisteredValidation.Validate(Valid));
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { Metadata = new ModelMetadata { ContributorAddress = "not-an-address" } }));
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { TokenSymbol = new string('T', 64) }));
    }

    [Fact]
    public void Every_missing_field_is_named()
    {
        var errors = ModelRegisteredValidation.Validate(new ModelRegistered());

        Assert.Collection(errors,
            e => Assert.StartsWith("model_id", e),
            e => Assert.StartsWith("token_symbol", e),
            e => Assert.StartsWith("registered_version", e),
            e => Assert.StartsWith("timestamp", e));
    }

    [Fact]
    public void A_token_symbol_over_64_characters_is_rejected_naming_the_limit()
    {
        var error = Assert.Single(ModelRegisteredValidation.Validate(Valid with { TokenSymbol = new string('T', 65) }));

        Assert.StartsWith("token_symbol must be 1 to 64 characters", error);
    }

    [Fact]
    public void EnsureValid_throws_with_the_fields_in_the_message()
    {
        var error = Assert.Throws<InvalidModelRegistrationException>(
            () => ModelRegisteredValidation.EnsureValid(Valid with { ModelId = "", Timestamp = default }));

        Assert.Equal(2, error.Errors.Count);
        Assert.Contains("model_id is required", error.Message);
        Assert.Contains("timestamp is required", error.Message);
    }
}
