using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>Options are validated when the host starts, and no message shows a secret.</summary>
public sealed class OptionsTests
{
    private static ValidateOptionsResult Validate(Action<HokusaiReceiverOptions> configure)
    {
        var options = new HokusaiReceiverOptions { Secret = "s" };
        configure(options);
        return new HokusaiReceiverOptionsValidator().Validate(null, options);
    }

    [Fact]
    public async Task A_missing_secret_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => LoopbackServer.StartAsync(
            app => app.MapHokusaiWebhook("/hook", (_, _, _) => Task.CompletedTask),
            builder => builder.Services.AddHokusaiWebhookReceiver(_ => { })));

        Assert.Contains("Secret is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_with_a_secret_are_valid()
    {
        Assert.True(Validate(_ => { }).Succeeded);
    }

    [Theory]
    [InlineData("whsec_***not-base64***")]
    [InlineData("whsec_")]
    public void A_whsec_secret_that_is_not_base64_is_refused_without_showing_it(string secret)
    {
        var result = Validate(o => o.PreviousSecrets = ["fine", secret]);

        Assert.True(result.Failed);
        Assert.Contains("PreviousSecrets[1] starts with 'whsec_'", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("***not-base64***", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_other_problem_is_named()
    {
        var result = Validate(o =>
        {
            o.PreviousSecrets = ["", "x", "x", "x", "x", "x", "x", "x"];
            o.MaxBodyBytes = 0;
            o.IdempotencyKeyTtl = TimeSpan.Zero;
            o.ClaimLeaseTime = TimeSpan.FromSeconds(-1);
        });

        Assert.Contains("PreviousSecrets may hold at most 7", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("PreviousSecrets[0] is empty", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxBodyBytes must be from 1 to 1073741824 (1 GiB); got 0", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("IdempotencyKeyTtl must be more than zero", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("ClaimLeaseTime must be more than zero", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(Validate(o => o.ClaimLeaseTime = TimeSpan.FromDays(2)).Failed);
    }

    [Fact]
    public void ToString_counts_secrets_and_never_shows_them()
    {
        var text = new HokusaiReceiverOptions { Secret = "top-secret-value", PreviousSecrets = ["older-secret-value"] }.ToString();

        Assert.DoesNotContain("secret-value", text, StringComparison.Ordinal);
        Assert.Contains("PreviousSecrets: 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mapping_without_adding_the_receiver_says_what_to_call()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(
            () => app.MapHokusaiWebhook("/hook", (ModelRegistered _, Microsoft.AspNetCore.Http.HttpContext _, CancellationToken _) => Task.CompletedTask));

        Assert.Contains("AddHokusaiWebhookReceiver", error.Message, StringComparison.Ordinal);
    }
}
