using Hokusai.Bus.TestSupport;
using System.Text;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// Poison messages: control characters, non-ASCII text, huge values and wrong types. Each is refused with a reason that
/// names its field and repeats nothing that could forge a log line or a header.
/// </summary>
public sealed class PoisonInputTests
{
    private static ModelRegistered Valid => ModelRegisteredJson.Deserialize(TestVectors.SeedFile());

    [Theory]
    [InlineData("s10b-ключ", "a non-ASCII character at position 5")]
    [InlineData("a\r\nX-Injected: yes", "a control character at position 1")]
    [InlineData("key with space", "a space at position 3")]
    [InlineData("tab\there", "a control character at position 3")]
    [InlineData("del\u007f", "a control character at position 3")]
    public void An_idempotency_key_that_cannot_be_a_header_is_rejected_naming_the_field(string key, string where)
    {
        var error = Assert.Single(ModelRegisteredValidation.Validate(Valid with { IdempotencyKey = key }));

        Assert.StartsWith("idempotency_key must be printable ASCII", error, StringComparison.Ordinal);
        Assert.Contains(where, error, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error, StringComparison.Ordinal);
        Assert.DoesNotContain("ключ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_idempotency_key_of_200_printable_characters_is_accepted_and_201_is_not()
    {
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { IdempotencyKey = new string('k', 200) }));
        Assert.Equal(
            "idempotency_key must be at most 200 characters; it has 100000.",
            Assert.Single(ModelRegisteredValidation.Validate(Valid with { IdempotencyKey = new string('k', 100_000) })));
        Assert.Single(ModelRegisteredValidation.Validate(Valid with { IdempotencyKey = new string('k', 201) }));
    }

    [Fact]
    public void Every_printable_ASCII_character_is_allowed_in_a_key()
    {
        var key = new string(Enumerable.Range('!', '~' - '!' + 1).Select(c => (char)c).ToArray());
        Assert.Empty(ModelRegisteredValidation.Validate(Valid with { IdempotencyKey = key }));
    }

    [Theory]
    [InlineData("""{"baseline_metrics": {"accuracy": "0.85"}}""", "baseline_metrics.accuracy has the wrong JSON type")]
    [InlineData("""{"baseline_metrics": [1, 2]}""", "baseline_metrics ")]
    [InlineData("""{"model_id": {"nested": true}}""", "model_id ")]
    [InlineData("""{"timestamp": "01/02/2024 10:30"}""", "timestamp must be ISO 8601")]
    [InlineData("""{"timestamp": "yesterday\r\nX-Forged: 1"}""", "timestamp must be ISO 8601")]
    [InlineData("""{"timestamp": 1705314600}""", "timestamp must be an ISO 8601 string")]
    [InlineData("null", "JSON null")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("""{"model_id": "m", """, "not valid JSON")]
    [InlineData("\u00ff\u00fe", "not valid JSON")]
    public void A_body_that_cannot_be_read_gives_a_reason_naming_the_field(string json, string expected)
    {
        Assert.False(ModelRegisteredJson.TryDeserialize(Encoding.UTF8.GetBytes(json), out var message, out var error));

        Assert.Null(message);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_metric_too_large_for_a_double_is_refused_as_not_finite_both_when_read_and_when_validated()
    {
        var json = Encoding.UTF8.GetString(TestVectors.SeedFile()).Replace("0.85", "1e400", StringComparison.Ordinal);
        Assert.False(ModelRegisteredJson.TryDeserialize(Encoding.UTF8.GetBytes(json), out _, out var readError));
        Assert.StartsWith("baseline_metrics.accuracy must be a finite number", readError, StringComparison.Ordinal);

        var built = Valid with { BaselineMetrics = new Dictionary<string, double> { ["accuracy"] = double.PositiveInfinity } };
        var error = Assert.Single(ModelRegisteredValidation.Validate(built));

        Assert.StartsWith("baseline_metrics.accuracy must be a finite number", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2024-01-15T10:30:00Z")]
    [InlineData("2024-01-15T10:30:00")]
    [InlineData("2024-01-15T10:30:00.123456")]
    [InlineData("2024-01-15T10:30:00.1234567+02:00")]
    [InlineData("2024-01-15 10:30:00+00:00")]
    [InlineData("2024-01-15T10:30Z")]
    public void ISO_8601_timestamps_as_Python_writes_them_are_read(string timestamp)
    {
        var json = $$"""{"model_id":"m","registered_version":"1","token_symbol":"T","timestamp":"{{timestamp}}"}""";

        Assert.True(ModelRegisteredJson.TryDeserialize(Encoding.UTF8.GetBytes(json), out var message, out var error), error);
        Assert.Equal(2024, message.Timestamp.Year);
    }

    [Theory]
    [InlineData("01/02/2024 10:30")]
    [InlineData("15.01.2024 10:30")]
    [InlineData("Jan 15 2024 10:30")]
    [InlineData("2024-01-15")]
    public void Culture_formats_are_refused_since_their_day_and_month_are_ambiguous(string timestamp)
    {
        var json = $$"""{"model_id":"m","registered_version":"1","token_symbol":"T","timestamp":"{{timestamp}}"}""";

        Assert.False(ModelRegisteredJson.TryDeserialize(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.StartsWith("timestamp must be ISO 8601", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("line\r\nforged", "line\\r\\nforged")]
    [InlineData("bell\u0007", "bell\\u0007")]
    [InlineData("plain", "plain")]
    public void SafeText_escapes_control_characters(string value, string shown) => Assert.Equal(shown, SafeText.Of(value));

    [Fact]
    public void SafeText_cuts_long_values_and_says_how_long_they_were()
    {
        var shown = SafeText.Of(new string('x', 1000), 10);
        Assert.Equal("xxxxxxxxxx… (1000 characters)", shown);
    }
}
