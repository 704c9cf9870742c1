using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// Every C# block of the README, the docs and the package READMEs (each marked <c>&lt;!-- compiled: NAME --&gt;</c>)
/// compiles, as written, in the project its text tells the user to make: the template of its <c>dotnet new</c> and only the
/// packages of its <c>dotnet add package</c> (<see cref="SnippetProject"/>), so a snippet that needs a package the
/// README never names, or a template it never says, fails here and not in a user's hands. What each snippet does is
/// covered by the behaviour tests.
/// </summary>
public sealed class ReadmeSnippetTests
{
    /// <summary>The pages users read: the repository's README, its docs and each package's README.</summary>
    private static readonly string[] Readmes =
    [
        "README.md", "docs/INTEGRATION.md", "docs/OPERATIONS.md", "docs/MIGRATION.md", "docs/PERFORMANCE.md", "docs/ARCHITECTURE.md",
        "src/Hokusai.Bus/README.md", "src/Hokusai.Bus.Receiver/README.md", "contracts/Hokusai.Bus.Contracts/README.md",
        "src/Hokusai.Bus.Redis/README.md", "src/Hokusai.Bus.Producer/README.md", "src/Hokusai.Bus.Receiver.Redis/README.md",
    ];

    public static TheoryData<string, string> Snippets()
    {
        var snippets = new TheoryData<string, string>();
        foreach (var readme in Readmes)
        {
            foreach (var line in File.ReadLines(Repository.File(readme)))
            {
                if (line.StartsWith("<!-- compiled: ", StringComparison.Ordinal))
                {
                    snippets.Add(readme, line["<!-- compiled: ".Length..^" -->".Length]);
                }
            }
        }

        return snippets;
    }

    [Theory]
    [MemberData(nameof(ReadmeFiles))]
    public void Every_csharp_block_of_a_readme_is_marked_to_be_compiled(string readme)
    {
        var lines = File.ReadAllLines(Repository.File(readme));
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() == "```csharp")
            {
                Assert.True(i > 0 && lines[i - 1].StartsWith("<!-- compiled: ", StringComparison.Ordinal),
                    $"{readme} line {i + 1}: a C# block without a <!-- compiled: NAME --> marker");
            }
        }
    }

    public static TheoryData<string> ReadmeFiles() => [.. Readmes];

    [Theory]
    [MemberData(nameof(Snippets))]
    public void The_readme_snippet_compiles_in_the_project_its_readme_describes(string readme, string name) => Compile(readme, name);

    [Fact]
    public void A_snippet_that_needs_a_package_its_readme_does_not_name_does_not_compile()
    {
        // The receiver snippet with only the receiver package: AddHokusaiRedisIdempotencyStore is the Redis package's.
        var (lines, marker, code) = Block("src/Hokusai.Bus.Receiver/README.md", "receiver-package");
        var told = SnippetProject.For("README", lines, marker, code);
        Assert.Contains("Hokusai.Bus.Receiver.Redis", told.Packages);
        var errors = Errors(code, told with { Packages = [.. told.Packages.Where(p => p != "Hokusai.Bus.Receiver.Redis")] }, "without-redis");
        Assert.Contains(errors, e => e.Contains("AddHokusaiRedisIdempotencyStore", StringComparison.Ordinal));

        // The plugin's snippet in a console project: Host is the worker template's.
        var plugin = Block("src/Hokusai.Bus/README.md", "plugin-package");
        var worker = SnippetProject.For("README", plugin.Lines, plugin.Marker, plugin.Code);
        Assert.Equal("worker", worker.Template);
        Assert.Contains(Errors(plugin.Code, worker with { Template = "console" }, "console"), e => e.Contains("'Host'", StringComparison.Ordinal));
    }

    /// <summary>The snippet compiled in its project; the test fails with the compiler's errors if it does not compile.</summary>
    internal static byte[] Compile(string readme, string name)
    {
        var (lines, marker, code) = Block(readme, name);
        var project = SnippetProject.For(readme, lines, marker, code);
        var output = new MemoryStream();
        var errors = Errors(code, project, name, output);
        Assert.True(errors.Count == 0,
            $"{readme} snippet '{name}' does not compile in a `dotnet new {project.Template}` project with "
            + $"{(project.Packages.Count == 0 ? "no package added" : string.Join(", ", project.Packages))}:\n{string.Join('\n', errors)}\n---\n{code}");
        return output.ToArray();
    }

    private static List<string> Errors(string code, SnippetProject project, string name, Stream? output = null)
    {
        var usings = string.Join('\n', project.Usings.Select(u => $"global using global::{u};"));
        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet_" + name,
            [CSharpSyntaxTree.ParseText(usings), CSharpSyntaxTree.ParseText(code, path: name)],
            project.References(),
            new CSharpCompilationOptions(project.Output, nullableContextOptions: NullableContextOptions.Enable));
        var result = compilation.Emit(output ?? Stream.Null);
        return [.. result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())];
    }

    private static (string[] Lines, int Marker, string Code) Block(string readme, string name)
    {
        var lines = File.ReadAllLines(Repository.File(readme));
        var marker = Array.FindIndex(lines, l => l.Trim() == $"<!-- compiled: {name} -->");
        Assert.Equal("```csharp", lines[marker + 1].Trim());
        var end = Array.FindIndex(lines, marker + 2, l => l.Trim() == "```");
        return (lines, marker, string.Join('\n', lines[(marker + 2)..end]));
    }
}
