using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Hokusai.Bus.Host;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>
/// The guide's environment variables (as configuration keys) read by a real host: defaults, parsing, the
/// <c>Hokusai:Webhook</c> alternative, and start-up failures that name the variable to fix and never show the secret.
/// </summary>
public sealed partial class SettingsTests
{
    private const string Url = "https://hooks.example.com/api/models/ready";
    private const string Secret = "s3cr3t-never-shown-9f1c";
    private static readonly string[] RotationSecrets = [.. Enumerable.Range(1, 8).Select(i => $"old-secret-{i}-77ad")];

    [Fact]
    public async Task The_defaults_are_the_guides()
    {
        var options = await ResolvedAsync(Valid());

        Assert.Equal(new Uri(Url), options.Url);
        Assert.Equal(Secret, options.Secret);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout);
        Assert.Equal(5, options.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(2), options.RetryDelay);
        Assert.Equal(5, options.CircuitBreakerFailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(60), options.CircuitBreakerRecoveryTime);
        Assert.Equal(32, options.Concurrency); // not in the guide; chosen from the benchmarks (docs/PERFORMANCE.md)
        Assert.False(RedisFallbackAdded(Valid()));
    }

    [Fact]
    public async Task Every_guide_variable_is_applied()
    {
        var options = await ResolvedAsync(Valid(
            ("WEBHOOK_TIMEOUT", "45"),
            ("WEBHOOK_MAX_RETRIES", "3"),
            ("WEBHOOK_RETRY_DELAY", "4"),
            ("WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "7"),
            ("WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "90"),
            ("ENABLE_REDIS_FALLBACK", "true")));

        Assert.Equal(TimeSpan.FromSeconds(45), options.Timeout);
        Assert.Equal(3, options.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(4), options.RetryDelay);
        Assert.Equal(7, options.CircuitBreakerFailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(90), options.CircuitBreakerRecoveryTime);
        Assert.True(RedisFallbackAdded(Valid(("ENABLE_REDIS_FALLBACK", "true"))));
    }

    [Fact]
    public async Task A_fractional_WEBHOOK_RETRY_DELAY_is_read_as_seconds()
    {
        var options = await ResolvedAsync(Valid(("WEBHOOK_RETRY_DELAY", "0.5")));

        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RetryDelay);
    }

    [Fact]
    public async Task The_Hokusai_Webhook_section_is_used_when_the_guides_variables_are_absent()
    {
        var options = await ResolvedAsync(new Dictionary<string, string?>
        {
            ["Hokusai:Webhook:Url"] = Url,
            ["Hokusai:Webhook:Secret"] = Secret,
            ["Hokusai:Webhook:MaxRetries"] = "2",
        });

        Assert.Equal(new Uri(Url), options.Url);
        Assert.Equal(Secret, options.Secret);
        Assert.Equal(2, options.MaxRetries);
    }

    [Fact]
    public async Task The_guides_variable_wins_over_the_Hokusai_Webhook_section()
    {
        var options = await ResolvedAsync(new Dictionary<string, string?>
        {
            ["WEBHOOK_URL"] = Url,
            ["WEBHOOK_SECRET"] = Secret,
            ["WEBHOOK_TIMEOUT"] = "12",
            ["Hokusai:Webhook:Url"] = "https://other.example.com/hook",
            ["Hokusai:Webhook:Secret"] = "the-other-secret",
            ["Hokusai:Webhook:Timeout"] = "99",
        });

        Assert.Equal(new Uri(Url), options.Url);
        Assert.Equal(Secret, options.Secret);
        Assert.Equal(TimeSpan.FromSeconds(12), options.Timeout);
    }

    [Fact]
    public async Task A_missing_WEBHOOK_URL_stops_start_up_naming_it()
    {
        var settings = Valid();
        settings.Remove("WEBHOOK_URL");

        var error = await StartFailsAsync(settings);

        Assert.Contains("WEBHOOK_URL", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("WEBHOOK_SECRET", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("INGEST_MAX_BODY_BYTES", "abc", "INGEST_MAX_BODY_BYTES must be a whole number of bytes from 1024 to 16777216; got 'abc'.")]
    [InlineData("INGEST_MAX_BODY_BYTES", "1023", "INGEST_MAX_BODY_BYTES must be a whole number of bytes from 1024 to 16777216; got '1023'.")]
    [InlineData("INGEST_SECRET", "   ", "INGEST_SECRET must not be empty or only spaces.")]
    [InlineData("INGEST_ROTATION_SECRETS", "old", "INGEST_ROTATION_SECRETS is set without INGEST_SECRET; set the current secret too.")]
    public async Task A_bad_ingest_setting_stops_start_up_naming_it(string variable, string value, string message)
    {
        var error = await StartFailsAsync(Valid((variable, value)));

        Assert.Contains(message, error.Failures);
    }

    [Fact]
    public async Task A_timeout_over_the_default_hold_names_the_timeout_the_default_and_the_fix()
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_TIMEOUT", "400")));

        Assert.Equal(
            ["WEBHOOK_TIMEOUT (400 s) must be shorter than WEBHOOK_MAX_HOLD, whose default is 300 s, since one attempt has to fit in the hold: "
             + "set WEBHOOK_MAX_HOLD above 400 (at most 1200), or lower the timeout."],
            error.Failures);
    }

    [Fact]
    public async Task A_timeout_over_a_configured_hold_names_the_hold()
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_TIMEOUT", "60"), ("WEBHOOK_MAX_HOLD", "30")));

        Assert.Equal(["WEBHOOK_MAX_HOLD must be longer than WEBHOOK_TIMEOUT: one attempt has to fit in the hold."], error.Failures);
    }

    [Fact]
    public async Task An_unknown_WEBHOOK_PAYLOAD_FORMAT_stops_start_up_naming_it_and_the_choices()
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_PAYLOAD_FORMAT", "xml")));

        Assert.Contains("WEBHOOK_PAYLOAD_FORMAT must be 'guide' or 'mlflow'; got 'xml'.", error.Failures);
    }

    [Fact]
    public async Task A_missing_WEBHOOK_SECRET_stops_start_up_naming_it()
    {
        var settings = Valid();
        settings.Remove("WEBHOOK_SECRET");

        var error = await StartFailsAsync(settings);

        Assert.Contains("WEBHOOK_SECRET", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("WEBHOOK_URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_WEBHOOK_SECRET_stops_start_up_naming_it()
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_SECRET", "")));

        Assert.Contains("WEBHOOK_SECRET", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WEBHOOK_TIMEOUT", "abc")]
    [InlineData("WEBHOOK_TIMEOUT", "0")]
    [InlineData("WEBHOOK_RETRY_DELAY", "soon")]
    [InlineData("WEBHOOK_RETRY_DELAY", "-1")]
    [InlineData("WEBHOOK_MAX_RETRIES", "-1")]
    [InlineData("WEBHOOK_MAX_RETRIES", "five")]
    [InlineData("WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "0")]
    [InlineData("WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "0")]
    [InlineData("WEBHOOK_URL", "ftp://x")]
    [InlineData("WEBHOOK_URL", "not a url")]
    [InlineData("WEBHOOK_URL", "hooks.example.com/api/models/ready")]
    [InlineData("ENABLE_REDIS_FALLBACK", "maybe")]
    [InlineData("WEBHOOK_SECRET", "   ")]
    [InlineData("WEBHOOK_TIMEOUT", "0.0000001")]
    [InlineData("WEBHOOK_TIMEOUT", "-1")]
    [InlineData("WEBHOOK_MAX_HOLD", "0.5")]
    [InlineData("WEBHOOK_MAX_HOLD", "1201")]
    [InlineData("WEBHOOK_MAX_HOLD", "20")] // not longer than WEBHOOK_TIMEOUT (30 s by default)
    [InlineData("WEBHOOK_URL", "gopher://hooks.example.com/x")]
    public async Task A_bad_value_stops_start_up_naming_the_variable_and_only_it(string variable, string value)
    {
        var error = await StartFailsAsync(Valid((variable, value)));

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(variable, failure, StringComparison.Ordinal);
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://hooks.example.com:99999/api/models/ready?token=tok-8c1e", "tok-8c1e")] // Port out of range.
    [InlineData("https://hooks.example.com:99999/api/models/ready#tok-8c1e", "tok-8c1e")]
    [InlineData("https://deploy:tok-8c1e@hooks.example.com:99999/api/models/ready", "tok-8c1e")]
    [InlineData("deploy:tok-8c1e@hooks.example.com/api/models/ready", "tok-8c1e")] // No scheme.
    [InlineData("ftp://u:tok-8c1e@hooks.example.com/x?token=T-8c1e", "8c1e")] // Uri keeps an ftp query in the path.
    [InlineData("gopher://hooks.example.com/x?token=tok-8c1e", "tok-8c1e")]
    public async Task A_WEBHOOK_URL_that_does_not_parse_is_shown_without_its_query_or_user_info(string url, string token)
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_URL", url)));

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("WEBHOOK_URL", failure, StringComparison.Ordinal);
        Assert.Contains("hooks.example.com", failure, StringComparison.Ordinal); // Still says which URL is wrong.
        Assert.DoesNotContain(token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_negative_WEBHOOK_TIMEOUT_is_reported_as_out_of_range_not_as_not_a_number()
    {
        var error = await StartFailsAsync(Valid(("WEBHOOK_TIMEOUT", "-1")));

        Assert.Equal("WEBHOOK_TIMEOUT must be greater than 0 seconds.", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Settings_whose_retries_outlast_RabbitMQs_ack_timeout_are_accepted_since_long_waits_live_in_RabbitMQ()
    {
        // 20 retries from 60 s would hold a message for days if it waited in the host; here it never holds it past WEBHOOK_MAX_HOLD.
        var options = await ResolvedAsync(Valid(("WEBHOOK_MAX_RETRIES", "20"), ("WEBHOOK_RETRY_DELAY", "60"), ("WEBHOOK_MAX_HOLD", "300")));

        Assert.Equal(20, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxHold);
    }

    [Fact]
    public async Task A_bad_Hokusai_Webhook_value_names_its_key()
    {
        var error = await StartFailsAsync(Valid(("Hokusai:Webhook:Timeout", "abc")));

        Assert.Contains("Hokusai__Webhook__Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_error_is_reported_at_once_and_the_secret_is_never_shown()
    {
        var error = await StartFailsAsync(new Dictionary<string, string?>
        {
            ["WEBHOOK_URL"] = "not a url",
            ["WEBHOOK_SECRET"] = Secret,
            ["WEBHOOK_TIMEOUT"] = "abc",
            ["WEBHOOK_MAX_RETRIES"] = "-1",
            ["WEBHOOK_RETRY_DELAY"] = "later",
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "0",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "-5",
            ["ENABLE_REDIS_FALLBACK"] = "maybe",
            ["WEBHOOK_ROTATION_SECRETS"] = string.Join(',', RotationSecrets), // One too many.
        });

        string[] variables =
        [
            "WEBHOOK_URL", "WEBHOOK_TIMEOUT", "WEBHOOK_MAX_RETRIES", "WEBHOOK_RETRY_DELAY",
            "WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "ENABLE_REDIS_FALLBACK",
            "WEBHOOK_ROTATION_SECRETS",
        ];
        foreach (var variable in variables)
        {
            Assert.Contains(error.Failures, f => f.StartsWith(variable + " ", StringComparison.Ordinal));
        }

        Assert.Equal(variables.Length, error.Failures.Count());
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.All(RotationSecrets, s => Assert.DoesNotContain(s, error.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_secret_in_the_Hokusai_Webhook_section_is_not_shown_either()
    {
        var error = await StartFailsAsync(new Dictionary<string, string?>
        {
            ["Hokusai:Webhook:Secret"] = Secret,
            ["WEBHOOK_TIMEOUT"] = "abc",
        });

        Assert.Contains("WEBHOOK_URL", error.Message, StringComparison.Ordinal);
        Assert.Contains("WEBHOOK_TIMEOUT", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_named_endpoint_takes_its_own_url_and_secret_and_inherits_every_setting_it_does_not_set()
    {
        var (host, guide) = Build(Valid(
            ("WEBHOOK_MAX_RETRIES", "3"),
            ("Hokusai:Webhook:Endpoints:token:Url", "https://token.example.com/hooks"),
            ("Hokusai:Webhook:Endpoints:token:Secret", "token-secret-4e1a"),
            ("Hokusai:Webhook:Endpoints:token:Timeout", "7"),
            ("Hokusai:Webhook:Endpoints:token:Filter:TokenSymbols", "TOKEN_A, TOKEN_B"),
            ("Hokusai:Webhook:Endpoints:token:Filter:Tags:environment", "production"),
            ("Hokusai:Webhook:Endpoints:audit:Url", "https://audit.example.com/hooks")));
        using var _ = host;
        Assert.Empty(guide.Failures(host.Services));

        var monitor = host.Services.GetRequiredService<IOptionsMonitor<HokusaiWebhookOptions>>();
        var token = monitor.Get("token");
        var main = monitor.Get(Options.DefaultName);

        Assert.Equal(new Uri("https://token.example.com/hooks"), token.Url);
        Assert.Equal("token-secret-4e1a", token.Secret);
        Assert.Equal(TimeSpan.FromSeconds(7), token.Timeout);
        Assert.Equal(3, token.MaxRetries); // inherited from WEBHOOK_MAX_RETRIES
        Assert.Equal(["TOKEN_A", "TOKEN_B"], token.Filter.TokenSymbols);
        Assert.Equal("production", token.Filter.Tags["environment"]);
        Assert.Empty(main.Filter.TokenSymbols); // filters are never inherited, either way
        Assert.Equal(TimeSpan.FromSeconds(30), main.Timeout);
        Assert.Equal(Secret, monitor.Get("audit").Secret); // no Secret of its own: WEBHOOK_SECRET
        Assert.Equal(new Uri("https://audit.example.com/hooks"), monitor.Get("audit").Url);
        Assert.Equal(["audit", "token"], WebhookEndpointNames.In(host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()));
        Assert.Equal("hokusai-webhook-delivery-token", WebhookEndpointNames.QueueOf("token"));
        Assert.Equal("hokusai-webhook-delivery", WebhookEndpointNames.QueueOf(WebhookEndpointNames.Default));
    }

    [Theory]
    [InlineData("Hokusai:Webhook:Endpoints:token:Timeout", "abc", "Hokusai__Webhook__Endpoints__token__Timeout must be a number")]
    [InlineData("Hokusai:Webhook:Endpoints:token:MaxRetries", "99", "Hokusai__Webhook__Endpoints__token__MaxRetries must be between 0 and 20")]
    [InlineData("Hokusai:Webhook:Endpoints:token:Url", "ftp://token.example.com", "Hokusai__Webhook__Endpoints__token__Url must be an absolute http or https URL")]
    [InlineData("Hokusai:Webhook:Endpoints:token:Ulr", "https://token.example.com", "Hokusai__Webhook__Endpoints__token__Ulr is not a setting of an endpoint")]
    [InlineData("Hokusai:Webhook:Endpoints:token:Filter:Symbols", "TOKEN_A", "Hokusai__Webhook__Endpoints__token__Filter__Symbols is not a filter")]
    [InlineData("Hokusai:Webhook:Endpoints:Token_X:Url", "https://token.example.com", "Hokusai__Webhook__Endpoints__Token_X is not a valid endpoint name")]
    [InlineData("Hokusai:Webhook:Endpoints:default:Url", "https://token.example.com", "Hokusai__Webhook__Endpoints__default is not a valid endpoint name")]
    public void A_bad_named_endpoint_stops_start_up_naming_the_endpoint_and_its_setting(string key, string value, string expected)
    {
        var settings = Valid((key, value));
        if (!key.EndsWith(":Url", StringComparison.Ordinal))
        {
            settings[key[..key.LastIndexOf(':')].Replace(":Filter", "", StringComparison.Ordinal) + ":Url"] = "https://token.example.com/hooks";
        }

        var (host, guide) = Build(settings);
        using var _ = host;
        var failures = guide.Failures(host.Services);

        var failure = Assert.Single(failures);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_endpoint_without_its_own_url_is_refused_rather_than_posting_to_the_default_endpoints()
    {
        var (host, guide) = Build(Valid(("Hokusai:Webhook:Endpoints:token:Secret", "token-secret-4e1a")));
        using var _ = host;

        var failure = Assert.Single(guide.Failures(host.Services));
        Assert.StartsWith("Hokusai__Webhook__Endpoints__token__Url is required", failure, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Valid(params (string Key, string? Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WEBHOOK_URL"] = Url,
            ["WEBHOOK_SECRET"] = Secret,
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>
    /// A host configured only from <paramref name="settings"/> (no machine environment variables, which could hold a
    /// real WEBHOOK_URL), with the guide's variables mapped and the plugin added as Hokusai.Bus.Host does it.
    /// </summary>
    private static (IHost Host, HostSettings Guide) Build(IDictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(
            new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        var guide = HostSettings.Apply(builder.Configuration);
        builder.Services.AddMassTransitTestHarness(x =>
        {
            x.DisableUsageTelemetry();
            guide.AddHokusai(x);
        });
        return (builder.Build(), guide);
    }

    private static bool RedisFallbackAdded(IDictionary<string, string?> settings)
    {
        var (host, _) = Build(settings);
        using (host)
        {
            return host.Services.GetService<RedisConnection>() is not null;
        }
    }

    private static async Task<HokusaiWebhookOptions> ResolvedAsync(IDictionary<string, string?> settings)
    {
        var (host, guide) = Build(settings);
        using var _ = host;
        Assert.Empty(guide.Failures(host.Services));
        await host.StartAsync();
        try
        {
            return host.Services.GetRequiredService<IOptions<HokusaiWebhookOptions>>().Value;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>What the host prints before it exits 2, as one exception to assert on.</summary>
    private static Task<OptionsValidationException> StartFailsAsync(IDictionary<string, string?> settings)
    {
        var (host, guide) = Build(settings);
        using (host)
        {
            var failures = guide.Failures(host.Services);
            Assert.NotEmpty(failures);
            return Task.FromResult(new OptionsValidationException(nameof(HokusaiWebhookOptions), typeof(HokusaiWebhookOptions), failures));
        }
    }
}
