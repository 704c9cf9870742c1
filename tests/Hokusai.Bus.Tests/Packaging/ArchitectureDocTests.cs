using System.Text.RegularExpressions;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// <c>docs/ARCHITECTURE.md</c> stays true: every file it names exists, and the path of one message is short enough to
/// hold in one's head (at most 12 steps, at most 2 places where control goes back up).
/// </summary>
public sealed partial class ArchitectureDocTests
{
    private static readonly string Text = File.ReadAllText(Repository.File("docs", "ARCHITECTURE.md"));

    [Fact]
    public void Every_file_it_names_exists()
    {
        var sources = Directory.EnumerateFiles(Repository.Root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Repository.Root, f).Replace('\\', '/'))
            .ToList();

        var named = FileName().Matches(Text).Select(m => m.Groups["path"].Value).Distinct().ToList();

        Assert.NotEmpty(named);
        Assert.All(named, path => Assert.True(sources.Any(s => s == path || s.EndsWith("/" + path, StringComparison.Ordinal)),
            $"docs/ARCHITECTURE.md names {path}, which is not in the repository"));
    }

    [Fact]
    public void Every_type_it_names_in_code_quotes_exists()
    {
        var source = string.Join('\n', Directory.EnumerateFiles(Repository.Root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var types = TypeName().Matches(Text).Select(m => m.Groups["type"].Value).Distinct().ToList();

        Assert.All(types, type => Assert.True(
            Regex.IsMatch(source, $@"\b(class|record|struct|interface|enum)\s+{Regex.Escape(type)}\b"),
            $"docs/ARCHITECTURE.md names the type {type}, which the code does not declare"));
    }

    [Fact]
    public void The_path_of_one_message_has_at_most_12_steps_and_2_places_where_control_goes_back_up()
    {
        var section = Text[Text.IndexOf("## The path of one message", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var steps = Step().Matches(section).Count;

        Assert.InRange(steps, 1, 12);
        Assert.InRange(section.Count(c => c == '↺') - 1, 0, 2); // the one in the section's opening sentence says what it means
    }

    [GeneratedRegex(@"`(?<path>[\w./-]+\.cs)`")]
    private static partial Regex FileName();

    /// <summary>A backquoted name that looks like one of our types: <c>WebhookEndpointSet</c>, not <c>Decide</c> or <c>UseCluster</c>.</summary>
    [GeneratedRegex(@"`(?<type>(Webhook|Hokusai|Settings|Delivery|Redis|Ingest|Signed|Breaker|Raw|Field|Acknowledgement|Endpoint)[A-Za-z]+)`")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"^\d+\. ", RegexOptions.Multiline)]
    private static partial Regex Step();
}
