namespace Hokusai.Bus.Tests.Policy;

/// <summary>HTTPS by default (issue #15): plain http:// only to loopback, or when WEBHOOK_ALLOW_HTTP=true.</summary>
public sealed partial class SettingsTests
{
    [Fact]
    public void Plain_http_to_a_host_that_is_not_loopback_stops_start_up_naming_the_setting_that_allows_it()
    {
        var (host, guide) = Build(Valid(("WEBHOOK_URL", "http://hooks.example.com/api/models/ready")));
        using var _ = host;

        var failure = Assert.Single(guide.Failures(host.Services));
        Assert.StartsWith("WEBHOOK_URL is plain http:// to http://hooks.example.com/api/models/ready, which is not loopback", failure, StringComparison.Ordinal);
        Assert.Contains("set WEBHOOK_ALLOW_HTTP=true", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://hooks.internal:8090/api/models/ready", "true")]
    [InlineData("http://127.0.0.1:8090/api/models/ready", null)]
    [InlineData("http://127.0.0.53/api/models/ready", null)]
    [InlineData("http://localhost:8090/api/models/ready", null)]
    [InlineData("http://[::1]:8090/api/models/ready", null)]
    [InlineData("https://hooks.example.com/api/models/ready", null)]
    public async Task Https_loopback_or_an_explicit_WEBHOOK_ALLOW_HTTP_is_accepted(string url, string? allowHttp)
    {
        var options = await ResolvedAsync(Valid(("WEBHOOK_URL", url), ("WEBHOOK_ALLOW_HTTP", allowHttp)));

        Assert.Equal(new Uri(url), options.Url);
    }

    [Fact]
    public void A_named_endpoint_is_held_to_https_too_and_inherits_WEBHOOK_ALLOW_HTTP()
    {
        var named = ("Hokusai:Webhook:Endpoints:token:Url", "http://token.internal/hooks");
        var (refused, refusedGuide) = Build(Valid(named));
        using (refused)
        {
            var failure = Assert.Single(refusedGuide.Failures(refused.Services));
            Assert.StartsWith("Hokusai__Webhook__Endpoints__token__Url is plain http://", failure, StringComparison.Ordinal);
            Assert.Contains("Hokusai__Webhook__Endpoints__token__AllowHttp=true", failure, StringComparison.Ordinal);
        }

        var (allowed, allowedGuide) = Build(Valid(named, ("WEBHOOK_ALLOW_HTTP", "true")));
        using (allowed)
        {
            Assert.Empty(allowedGuide.Failures(allowed.Services));
        }
    }
}
