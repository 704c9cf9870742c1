using System.Text.RegularExpressions;

namespace Hokusai.Bus.Cli.Tests;

/// <summary><c>demo</c>: the plugin's real consumer on an in-memory bus, delivering to a local verifying receiver.</summary>
public sealed partial class DemoTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Demo_delivers_every_registration_and_the_receiver_suppresses_the_republished_one()
    {
        var result = await CliProcess.RunAsync(["demo"], null, Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Summary: published 6 (5 registrations + 1 re-published), delivered 6, failed 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("receiver: processed 5, duplicates suppressed 1", result.Output, StringComparison.Ordinal);
        Assert.Contains("All 6 delivered.", result.Output, StringComparison.Ordinal);
        // The guide's example and variants with other model ids.
        foreach (var model in new[] { "model_abc123", "model_def456", "model_ghi789", "model_jkl012", "model_mno345" })
        {
            Assert.Contains(result.Lines, l => l.Contains("publish", StringComparison.Ordinal) && l.Contains(model, StringComparison.Ordinal));
        }

        Assert.Contains(result.Lines, l => l.Contains("key 550e8400-e29b-41d4-a716-446655440000", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("suppressed (already_processed)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Demo_with_endpoints_and_one_down_shows_the_others_receive_everything_while_its_breaker_opens()
    {
        var result = await CliProcess.RunAsync(
            ["demo", "--endpoints", "3", "--down", "endpoint-3", "--count", "4", "--breaker-threshold", "2", "--recovery", "0.2"], null, Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"default\s+.\s+hokusai-webhook-delivery\s+.\s+4 of 4", result.Output);
        Assert.Matches(@"endpoint-2\s+.\s+hokusai-webhook-delivery-endpoint-2\s+.\s+4 of 4", result.Output);
        Assert.Matches(@"endpoint-3\s+.\s+hokusai-webhook-delivery-endpoint-3\s+.\s+0 of 4", result.Output);
        Assert.Contains(result.Lines, l => l.Contains("breaker", StringComparison.Ordinal) && l.Contains("endpoint-3", StringComparison.Ordinal)
            && l.Contains("Closed -> Open", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Lines, l => l.Contains("breaker", StringComparison.Ordinal) && l.Contains("default ", StringComparison.Ordinal));
        Assert.Contains("Every endpoint but endpoint-3 got all 4", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_down_must_name_one_of_the_endpoints()
    {
        var result = await CliProcess.RunAsync(["demo", "--endpoints", "2", "--down", "token"], null, Limit);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--down must be one of the endpoints: default, endpoint-2.", result.Output + result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_with_fail_first_shows_the_failures_and_retries_then_delivers_all()
    {
        var result = await CliProcess.RunAsync(["demo", "--fail-first", "3"], null, Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, result.Lines.Count(l => l.Contains("simulated failure", StringComparison.Ordinal)));
        Assert.Equal(3, result.Lines.Count(l => Regex.IsMatch(l, @"\bretry\s+retry \d+ scheduled in")));
        // Each failing registration failed once: each retry is its first ("retry 1"), as the CLI README shows.
        Assert.All(result.Lines.Where(l => Regex.IsMatch(l, @"\bretry\s+retry \d+ scheduled in")),
            l => Assert.Contains("retry 1 scheduled in", l, StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("HTTP 500 (InternalServerError)", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("after 2 attempt(s)", StringComparison.Ordinal));
        Assert.Matches(SenderLine(), result.Output);
        Assert.Contains("sender: retries 3, breaker opens 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("All 6 delivered.", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_with_enough_failures_opens_the_breaker_then_its_trial_closes_it_and_all_are_delivered()
    {
        // Five first attempts fail (the threshold): the breaker opens; the retries wait for it (1 s later), its
        // trial succeeds and closes it.
        var result = await CliProcess.RunAsync(
            ["demo", "--fail-first", "5", "--breaker-threshold", "5", "--retry-delay", "1", "--recovery", "0.3", "--duplicates", "0"], null, Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.Contains("Closed -> Open", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("Open -> HalfOpen", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("HalfOpen -> Closed", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("(breaker trial)", StringComparison.Ordinal));
        Assert.Contains("breaker opens 1 (breaker now closed)", result.Output, StringComparison.Ordinal);
        Assert.Contains("delivered 5, failed 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("All 5 delivered.", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_with_the_receiver_down_waits_and_still_delivers_all()
    {
        var result = await CliProcess.RunAsync(["demo", "--count", "2", "--duplicates", "0", "--down-for", "2", "--recovery", "0.5"], null, Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Lines, l => l.Contains("-> 503 down for 2 s (--down-for)", StringComparison.Ordinal));
        Assert.Contains("All 2 delivered.", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_that_cannot_deliver_says_so_and_exits_1()
    {
        // The receiver refuses everything and nothing else is delivered: that could be an outage, so the registration
        // keeps waiting (it is not dead-lettered) until the demo's deadline.
        var result = await CliProcess.RunAsync(
            ["demo", "--count", "1", "--duplicates", "0", "--fail-first", "100", "--max-retries", "1", "--retry-delay", "0.05",
             "--breaker-threshold", "10", "--deadline", "3"],
            null, Limit);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("delivered 0, failed 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("1 still pending", result.Output, StringComparison.Ordinal);
        Assert.Contains("Not all delivered", result.Output, StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.Contains("hokusai-webhook-delivery_error", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"sender: retries \d+, breaker opens \d+ \(breaker now closed\)")]
    private static partial Regex SenderLine();
}
