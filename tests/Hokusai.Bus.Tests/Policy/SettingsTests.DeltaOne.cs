using Hokusai.Bus.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// <c>WEBHOOK_EVENT_TYPES</c> and the pipeline's own <c>DELTAONE_WEBHOOK_ENDPOINTS</c>, copied across unchanged: each
/// active entry a named endpoint; anything wrong stops the host at start (exit 2) naming the entry, never a secret.
/// </summary>
public sealed partial class SettingsTests
{
    private const string MintSecret = "mint-secret-never-shown-5e1f";

    [Fact]
    public void Each_active_entry_of_DELTAONE_WEBHOOK_ENDPOINTS_is_an_endpoint_for_its_event_types_in_the_pipelines_shapes()
    {
        var (host, guide) = Build(Valid(("DELTAONE_WEBHOOK_ENDPOINTS", $$"""
            [{"url":"https://mints.example.com/hook","secret":"{{MintSecret}}","event_types":["deltaone.minted","deltaone.achieved"],"description":"the mint service","owner":"ops"},
             {"url":"https://site.example.com/deltaone","secret":"s2"},
             {"url":"https://retired.example.com/hook","secret":"s3","active":false}]
            """)));
        using var _ = host;

        Assert.Empty(guide.Failures(host.Services));
        var endpoints = host.Services.GetRequiredService<WebhookEndpointSet>().All;
        Assert.Equal(new[] { "default", "deltaone-" + Hash("https://mints.example.com/hook"), "deltaone-" + Hash("https://site.example.com/deltaone") }
            .Order(StringComparer.Ordinal), endpoints.Select(e => e.Name).Order(StringComparer.Ordinal));
        var mints = endpoints.Single(e => e.Settings.Url == new Uri("https://mints.example.com/hook")).Settings;
        Assert.Equal(MintSecret, mints.Secret);
        Assert.Equal(["deltaone.minted", "deltaone.achieved"], mints.EventTypes);
        Assert.Equal(WebhookPayloadFormat.Mlflow, mints.PayloadFormat);
        Assert.Equal(["deltaone.achieved"], endpoints.Single(e => e.Settings.Url == new Uri("https://site.example.com/deltaone")).Settings.EventTypes);
        Assert.Equal([PipelineEvent.ModelRegisteredType], endpoints.Single(e => e.Name == "default").Settings.EventTypes);
        Assert.True(host.Services.GetRequiredService<EventSubscriptions>().Subscribes("deltaone.minted"));
        Assert.False(host.Services.GetRequiredService<EventSubscriptions>().Subscribes("deltaone.reward_ingest_failed"));
    }

    [Theory]
    [InlineData("not json", "DELTAONE_WEBHOOK_ENDPOINTS is not valid JSON")]
    [InlineData("""{"url":"https://a.example.com"}""", "DELTAONE_WEBHOOK_ENDPOINTS must be a JSON array of")]
    [InlineData("[1]", "DELTAONE_WEBHOOK_ENDPOINTS[0] must be a JSON object with \"url\" and \"secret\".")]
    [InlineData("""[{"secret":"SECRET"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].url is required and must be a non-empty string.")]
    [InlineData("""[{"url":"https://a.example.com","secret":""}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].secret is required and must be a non-empty string.")]
    [InlineData("""[{"url":"https://a.example.com","secret":"SECRET","event_types":"deltaone.minted"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].event_types must be a non-empty JSON array")]
    [InlineData("""[{"url":"https://a.example.com","secret":"SECRET","event_types":["deltaone.Minted!"]}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].event_types may name model_registered and deltaone.<name> types")]
    [InlineData("""[{"url":"https://a.example.com","secret":"SECRET","active":"yes"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].active must be true or false.")]
    [InlineData("""[{"url":"ftp://a.example.com","secret":"SECRET"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].url must be an absolute http or https URL")]
    [InlineData("""[{"url":"http://a.example.com/h?token=T","secret":"SECRET"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[0].url is plain http://")]
    [InlineData("""[{"url":"https://a.example.com","secret":"SECRET"},{"url":"https://a.example.com","secret":"SECRET"}]""", "DELTAONE_WEBHOOK_ENDPOINTS[1].url is the url of DELTAONE_WEBHOOK_ENDPOINTS[0] too")]
    public void A_bad_DELTAONE_WEBHOOK_ENDPOINTS_stops_start_up_naming_the_entry_never_the_secret(string json, string expected)
    {
        var (host, guide) = Build(Valid(("DELTAONE_WEBHOOK_ENDPOINTS", json.Replace("SECRET", MintSecret, StringComparison.Ordinal))));
        using var _ = host;

        var failures = guide.Failures(host.Services);

        Assert.Contains(failures, f => f.StartsWith(expected, StringComparison.Ordinal));
        Assert.All(failures, f => Assert.DoesNotContain(MintSecret, f, StringComparison.Ordinal));
        Assert.All(failures, f => Assert.DoesNotContain("token=T", f, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("model_registered,deltaone.minted", null)]
    [InlineData("deltaone.reward_ingest_failed", null)]
    [InlineData("model_registered,something_else", "WEBHOOK_EVENT_TYPES may name model_registered and deltaone.<name> types")]
    [InlineData(",", "WEBHOOK_EVENT_TYPES must name at least one event type")]
    public void WEBHOOK_EVENT_TYPES_takes_model_registered_and_deltaone_types_only(string value, string? expected)
    {
        var (host, guide) = Build(Valid(("WEBHOOK_EVENT_TYPES", value)));
        using var _ = host;

        var failures = guide.Failures(host.Services);

        if (expected is null)
        {
            Assert.Empty(failures);
            Assert.Equal(value.Split(','), host.Services.GetRequiredService<IOptions<HokusaiWebhookOptions>>().Value.EventTypes);
        }
        else
        {
            Assert.StartsWith(expected, Assert.Single(failures), StringComparison.Ordinal);
        }
    }

    private static string Hash(string url) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url)))[..8];
}
