using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// <c>compose/prometheus/alerts.yml</c>: its own tests pass under Prometheus's <c>promtool</c> (Debian's
/// <c>prometheus</c> package, which <c>scripts/services.sh</c> installs), and every Hokusai metric it reads is one the
/// code records, so a renamed instrument cannot leave an alert that never fires.
/// </summary>
public sealed partial class AlertRulesTests
{
    private static readonly string Rules = Repository.File("compose", "prometheus");

    [Fact]
    public async Task The_rules_pass_their_promtool_tests()
    {
        var (check, checkOutput) = await PromtoolAsync("check", "rules", "alerts.yml");
        var (test, testOutput) = await PromtoolAsync("test", "rules", "alerts.test.yml");

        Assert.True(check == 0, checkOutput);
        Assert.True(test == 0, testOutput);
        Assert.Contains("SUCCESS", testOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_hokusai_metric_the_rules_read_is_an_instrument_the_code_creates()
    {
        var rules = File.ReadAllText(Path.Combine(Rules, "alerts.yml"));
        var source = string.Join('\n', Directory.EnumerateFiles(Repository.File("src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));

        var metrics = Metric().Matches(rules).Select(m => m.Value).Distinct().ToList();

        Assert.Equal(5, metrics.Count);
        // The exporter adds _total to a counter's name; a gauge's name is as created.
        Assert.All(metrics, metric => Assert.Contains($"\"{Regex.Replace(metric, "_total$", "")}\"", source, StringComparison.Ordinal));
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] args)
    {
        var start = new ProcessStartInfo("promtool", args) { WorkingDirectory = Rules, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex(@"\b(hokusai|webhook|ingest)_[a-z_]+\b")]
    private static partial Regex Metric();
}
