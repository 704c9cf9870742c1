using Hokusai.Bus.TestSupport;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>What delivery needs: every problem listed, each starting with its JSON field name; metadata never checked.</summary>
public sealed class ValidationTests
{
    private static readonly ModelRegistered Valid = new()
    {
        ModelId = "model_abc123",
        TokenSymbol = "TOKEN_ABC",
        RegisteredVersion = "1",
        Timestamp = new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero),
        Metadata = new ModelMetadata { ModelName = "sentiment-analyzer", MlflowRunId = "run_xyz789" },
    };

    [Fact]
    public void A_valid_registration_has_no_errors()
    {
        Assert.Empty(ModelRegisteredValidation.Validate(Valid));
        Assert.Empty(ModelRegisteredValidation.Validate(ModelRegisteredJson.Deserialize(TestVectors.SeedFile())));
        ModelRegisteredValidation.EnsureValid(Valid); // does not throw
    }

    [Theory]
    [InlineData("model_id", "")]
    [InlineData("model_id", "   ")]
    [InlineData("token_symbol", "")]
    [InlineData("token_symbol", " ")]
    [InlineData("registered_version", "")]
    [InlineData("timestamp", "")]
    public void A_missing_field_gives_one_error_starting_with_its_json_name(string field, string blank)
    {
        var registration = field switch
        {
            "model_id" => Valid with { ModelId = blank },
            "token_symbol" => Valid with { TokenSymbol = blank },
            "registered_version" => Valid with { RegisteredVersion = blank },
            _ => Valid with { Timestamp = default },
        };

        var error = Assert.Single(ModelRegisteredValidation.Validate(registration));

        Assert.StartsWith(field + " ", error);
    }

    [Theory]
    [InlineData("model_id")]
    [InlineData("token_symbol")]
    [InlineData("registered_version")]
    [InlineData("timestamp")]
    public void A_payload_without_a_required_key_gives_an_error_naming_it(string field)
    {
        var seed = System.Text.Json.Nodes.JsonNode.Parse(TestVectors.SeedFile())!.AsObject();
        Assert.True(seed.Remove(field));

        var errors = ModelRegisteredValidation.Validate(
            ModelRegisteredJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(seed.ToJsonString())));

        Assert.StartsWith(field + " ", Assert.Single(errors));
    }

    [Fact]
    public void A_token_symbol_of_64_characters_is_accepted()
    {
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { TokenSymbol = new string('T', 64) }));
        Assert.Equal(64, ModelRegisteredValidation.MaxTokenSymbolLength);
    }

    [Fact]
    public void A_token_symbol_of_65_characters_is_rejected_naming_the_field_and_the_limit()
    {
        var error = Assert.Single(ModelRegisteredValidation.Validate(Valid with { TokenSymbol = new string('T', 65) }));

        Assert.StartsWith("token_symbol ", error);
        Assert.Contains("64", error);
    }

    [Fact]
    public void Every_problem_is_listed()
    {
        var errors = ModelRegisteredValidation.Validate(new ModelRegistered());

        Assert.Collection(errors,
            e => Assert.StartsWith("model_id ", e),
            e => Assert.StartsWith("token_symbol ", e),
            e => Assert.StartsWith("registered_version ", e),
            e => Assert.StartsWith("timestamp ", e));

        var two = ModelRegisteredValidation.Validate(Valid with { ModelId = "", TokenSymbol = new string('T', 65) });
        Assert.Collection(two,
            e => Assert.StartsWith("model_id ", e),
            e => Assert.StartsWith("token_symbol ", e));
    }

    [Fact]
    public void EnsureValid_throws_listing_every_field_in_Errors_and_Message()
    {
        var error = Assert.Throws<InvalidModelRegistrationException>(
            () => ModelRegisteredValidation.EnsureValid(Valid with { ModelId = "", Timestamp = default }));

        Assert.Collection(error.Errors,
            e => Assert.StartsWith("model_id ", e),
            e => Assert.StartsWith("timestamp ", e));
        Assert.Contains("model_id", error.Message);
        Assert.Contains("timestamp", error.Message);
        Assert.DoesNotContain("token_symbol", error.Message);
    }

    [Fact]
    public void Metadata_is_never_validated()
    {
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { Metadata = new ModelMetadata() }));
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with
        {
            Metadata = new ModelMetadata
            {
                ContributorAddress = "not-a-wallet-address ✗",
                ModelName = "",
                MlflowRunId = "   ",
                Tags = new Dictionary<string, string> { [""] = "" },
            },
        }));

        var emptyMetadata = ModelRegisteredJson.Deserialize(
            """{"model_id": "m", "registered_version": "1", "timestamp": "2024-01-15T10:30:00Z", "token_symbol": "T", "metadata": {}}"""u8);
        Assert.Empty(ModelRegisteredValidation.Validate(emptyMetadata));
    }
}
