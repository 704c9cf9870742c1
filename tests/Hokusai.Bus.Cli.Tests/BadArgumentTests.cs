namespace Hokusai.Bus.Cli.Tests;

/// <summary>Bad arguments: a clear message and the usage on stderr, exit code 2.</summary>
public sealed class BadArgumentTests
{
    [Theory]
    [InlineData("", "Required command was not provided")]
    [InlineData("bogus", "Unrecognized command or argument 'bogus'")]
    [InlineData("sign", "--secret is required")]
    [InlineData("sign --secret s --format base64", "base64")]
    [InlineData("verify --secret s", "--signature")]
    [InlineData("health --url not-a-url", "--url must be an absolute http or https URL")]
    [InlineData("send-test --secret s", "--url")]
    [InlineData("demo --count 0", "--count must be a whole number from 1 to 1000")]
    [InlineData("publish --token-symbol T --version 1", "--model-id is required")]
    [InlineData("publish --model-id m --token-symbol T --version 1 --metric accuracy", "--metric must be name=value")]
    [InlineData("receive --secret s --status 42", "--status must be a whole number from 100 to 599")]
    [InlineData("dead-letters", "Required command was not provided")]
    public async Task Bad_arguments_print_the_problem_and_usage_and_exit_2(string args, string message)
    {
        var result = await CliProcess.RunAsync(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Contains("Usage:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_publish_payload_that_is_not_deliverable_is_a_usage_error()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "{\"model_id\":\"m\"}");

            var result = await CliProcess.RunAsync("publish", "--file", file, "--rabbitmq", "amqp://guest:guest@127.0.0.1:1/");

            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains("token_symbol is required.", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("health --timeout 2 --url ftp://ops:t0ken-5ecret@example.com/hook?key=t0ken-5ecret", "ftp://***@example.com/hook?***")]
    [InlineData("health --timeout 2 --url http://127.0.0.1:1/health?key=t0ken-5ecret", "http://127.0.0.1:1/health?***")]
    [InlineData("send-test --secret s --timeout 2 --url http://ops:t0ken-5ecret@127.0.0.1:1/hook?key=t0ken-5ecret", "http://***@127.0.0.1:1/hook?***")]
    public async Task A_url_is_never_printed_with_its_user_info_or_query(string args, string shown)
    {
        // A URL that does not parse (exit 2) and one nothing listens on (exit 1): either way the token stays out.
        var result = await CliProcess.RunAsync(args.Split(' '));

        Assert.True(result.ExitCode is 1 or 2, result.ToString());
        Assert.DoesNotContain("t0ken-5ecret", result.Output + result.Error, StringComparison.Ordinal);
        Assert.Contains(shown, result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_is_not_an_error()
    {
        var result = await CliProcess.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "demo", "send-test", "health", "sign", "verify", "publish", "receive", "dead-letters" })
        {
            Assert.Contains(command, result.Output, StringComparison.Ordinal);
        }
    }
}
