using System.Text.RegularExpressions;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The README is the front door and each page of <c>docs/</c> is for one reader: the README stays short and links every
/// page, every page opens with who it is for and a link back, no page carries issue numbers (work history belongs in
/// commits), and every relative link, and every anchor it names, leads somewhere.
/// </summary>
public sealed partial class DocsTests
{
    /// <summary>The README and every page of docs/, as paths from the repository root.</summary>
    private static readonly string[] Front =
    [
        "README.md",
        .. Directory.GetFiles(Repository.File("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal),
    ];

    public static TheoryData<string> Pages() => [.. Front];

    /// <summary>Every page a reader reaches from the README: those above, and the READMEs of the plugin, the tool and the receiver.</summary>
    public static TheoryData<string> LinkingPages() =>
        [.. Front, "src/Hokusai.Bus/README.md", "src/Hokusai.Bus.Cli/README.md", "src/Hokusai.Bus.Receiver/README.md"];

    [Fact]
    public void The_readme_has_at_most_250_lines()
    {
        var lines = File.ReadAllLines(Repository.File("README.md")).Length;

        Assert.True(lines <= 250, $"README.md has {lines} lines; the front door keeps at most 250 and links the rest in docs/");
    }

    [Fact]
    public void The_readme_links_every_page_of_docs()
    {
        var readme = File.ReadAllText(Repository.File("README.md"));

        Assert.All(Front.Where(p => p.StartsWith("docs/", StringComparison.Ordinal)),
            page => Assert.Contains($"]({page})", readme, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_docs_page_opens_with_who_it_is_for_and_a_link_back_to_the_readme(string page)
    {
        if (page == "README.md")
        {
            return;
        }

        var lines = File.ReadAllLines(Repository.File(page));
        Assert.StartsWith("# ", lines[0], StringComparison.Ordinal);
        var opening = string.Join(' ', lines.Skip(1).SkipWhile(l => l.Trim().Length == 0).TakeWhile(l => l.Trim().Length > 0));

        Assert.True(opening.StartsWith("For ", StringComparison.Ordinal), $"{page} opens with \"{opening}\", not with who it is for (\"For ...\")");
        Assert.Contains("](../README.md)", opening, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void No_page_names_an_issue(string page)
    {
        var lines = File.ReadAllLines(Repository.File(page));
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            Assert.False(IssueWord().IsMatch(lines[i]), $"{page} line {i + 1} names an issue: {lines[i]}");
            // In prose; a fenced block may show output such as `#1 delivered`.
            Assert.False(!inFence && IssueNumber().IsMatch(lines[i]), $"{page} line {i + 1} names an issue: {lines[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(LinkingPages))]
    public void Every_relative_link_leads_to_a_file_and_an_anchor_that_exist(string page)
    {
        var directory = Path.GetDirectoryName(Repository.File(page))!;
        var broken = new List<string>();
        foreach (var line in Prose(File.ReadAllLines(Repository.File(page))))
        {
            foreach (Match link in Link().Matches(line))
            {
                var target = link.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var (path, anchor) = hash < 0 ? (target, null) : (target[..hash], target[(hash + 1)..]);
                var file = path.Length == 0 ? Repository.File(page) : Path.GetFullPath(Path.Combine(directory, path));
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{target}: no such file");
                }
                else if (anchor is not null && !Anchors(file).Contains(anchor))
                {
                    broken.Add($"{target}: {Path.GetFileName(file)} has no heading #{anchor}");
                }
            }
        }

        Assert.True(broken.Count == 0, $"{page}:\n{string.Join('\n', broken)}");
    }

    /// <summary>The anchors GitHub gives a page's headings: lowercased, punctuation dropped, spaces made hyphens.</summary>
    private static HashSet<string> Anchors(string file)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Prose(File.ReadAllLines(file)).Where(l => l.StartsWith('#')))
        {
            var text = line.TrimStart('#').Trim().ToLowerInvariant();
            var slug = new string([.. text.Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')]).Replace(' ', '-');
            var unique = slug;
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    /// <summary>The lines outside fenced code blocks.</summary>
    private static IEnumerable<string> Prose(IEnumerable<string> lines)
    {
        var inFence = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence)
            {
                yield return line;
            }
        }
    }

    /// <summary>"issue 24", "issues #14", "Issue #15".</summary>
    [GeneratedRegex(@"\bissues?\s+#?\d+", RegexOptions.IgnoreCase)]
    private static partial Regex IssueWord();

    /// <summary>"#14", "(#25)": a number after a hash sign, not part of a word or an HTML entity.</summary>
    [GeneratedRegex(@"(?<![\w&])#\d+\b")]
    private static partial Regex IssueNumber();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();
}
