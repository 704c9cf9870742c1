using System.Text.RegularExpressions;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>
/// The README's promise that a secret is never printed, for every command and subcommand the tool has (read from its
/// own help, so a new command is covered without touching this test), with a password in every URL the tool reads
/// from the environment (<c>RABBITMQ_URL</c>, <c>RABBITMQ_MANAGEMENT_URL</c>) and <c>WEBHOOK_SECRET</c> set: its
/// <c>--help</c>, its usage error, and its error when the broker it names cannot be reached.
/// </summary>
public sealed partial class SecretsNeverPrintedTests
{
    private const string Password = "s3cretpw";

    /// <summary>Every URL setting with a password in it; the hosts answer nothing (port 1), so a command that connects fails fast.</summary>
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["RABBITMQ_URL"] = $"amqp://u:{Password}@127.0.0.1:1/",
        ["RABBITMQ_MANAGEMENT_URL"] = $"http://u:{Password}@127.0.0.1:1/",
        ["WEBHOOK_SECRET"] = Password,
    };

    [Fact]
    public async Task No_commands_help_or_usage_error_prints_a_password_from_the_environment()
    {
        var commands = await CommandsAsync();
        Assert.Contains("publish", commands);
        Assert.Contains("dead-letters list", commands);
        Assert.Contains("deliveries stats", commands);

        foreach (var command in commands)
        {
            var words = command.Split(' ');
            var help = await CliProcess.RunAsync([.. words, "--help"], environment: Environment);
            Assert.True(help.ExitCode == 0, $"{command} --help: {help}");
            Assert.DoesNotContain(Password, help.Output + help.Error, StringComparison.Ordinal);

            var usage = await CliProcess.RunAsync([.. words, "--no-such-option"], environment: Environment);
            Assert.True(usage.ExitCode == 2, $"{command} --no-such-option: {usage}");
            Assert.DoesNotContain(Password, usage.Output + usage.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("publish --model-id m --token-symbol T --version 1 --timeout 3")]
    [InlineData("dead-letters list")]
    [InlineData("dead-letters replay")]
    [InlineData("deliveries")]
    [InlineData("deliveries stats")]
    public async Task A_command_that_cannot_reach_the_broker_says_so_without_its_password(string command)
    {
        var result = await CliProcess.RunAsync(command.Split(' '), environment: Environment);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.DoesNotContain(Password, result.Output + result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RABBITMQ_URL", "publish --model-id m --token-symbol T --version 1")]
    [InlineData("RABBITMQ_URL", "dead-letters list")]
    [InlineData("RABBITMQ_MANAGEMENT_URL", "dead-letters list")]
    public async Task A_malformed_url_setting_is_refused_without_repeating_its_password(string variable, string command)
    {
        var environment = new Dictionary<string, string>(Environment) { [variable] = $"ftp//u:{Password}@host" };

        var result = await CliProcess.RunAsync(command.Split(' '), environment: environment);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(variable, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.Output + result.Error, StringComparison.Ordinal);
    }

    /// <summary>Every command path ("publish", "dead-letters list", ...), from the "Commands:" section of each help.</summary>
    private static async Task<List<string>> CommandsAsync()
    {
        var found = new List<string>();
        var pending = new Queue<string>([""]);
        while (pending.TryDequeue(out var parent))
        {
            var help = await CliProcess.RunAsync([.. parent.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
            var section = help.Output.Split("Commands:", 2) is [_, var rest] ? rest : "";
            foreach (Match match in CommandLine().Matches(section))
            {
                var path = (parent + " " + match.Groups["name"].Value).Trim();
                found.Add(path);
                pending.Enqueue(path);
            }
        }

        return found;
    }

    [GeneratedRegex(@"^  (?<name>[a-z][a-z-]*)\b", RegexOptions.Multiline)]
    private static partial Regex CommandLine();
}
