using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// Every C# block of the README (each marked <c>&lt;!-- compiled: NAME --&gt;</c>) compiles, as written, as a program
/// with ASP.NET Core's implicit usings, against this repository's packages and their dependencies: a snippet that
/// no longer compiles fails here, not in a user's hands. What each snippet does is covered by the behaviour tests.
/// </summary>
public sealed class ReadmeSnippetTests
{
    private static readonly string[] ImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading",
        "System.Threading.Tasks", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
        "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    /// <summary>The READMEs users read: the repository's and each package's.</summary>
    private static readonly string[] Readmes =
    [
        "README.md", "src/Hokusai.Bus/README.md", "src/Hokusai.Bus.Receiver/README.md", "contracts/Hokusai.Bus.Contracts/README.md",
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
    public void The_readme_snippet_compiles(string readme, string name) => Compile(readme, name);

    /// <summary>The snippet compiled as a console application; the test fails with the compiler's errors if it does not compile.</summary>
    internal static byte[] Compile(string readme, string name)
    {
        var code = Block(readme, name);
        var usings = string.Join('\n', ImplicitUsings.Select(u => $"global using global::{u};"));
        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet_" + name,
            [CSharpSyntaxTree.ParseText(usings), CSharpSyntaxTree.ParseText(code, path: $"{readme} ({name})")],
            References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        using var output = new MemoryStream();
        var result = compilation.Emit(output);

        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(result.Success, $"{readme} snippet '{name}' does not compile:\n{string.Join('\n', errors)}\n---\n{code}");
        return output.ToArray();
    }

    private static string Block(string readme, string name)
    {
        var lines = File.ReadAllLines(Repository.File(readme));
        var marker = Array.FindIndex(lines, l => l.Trim() == $"<!-- compiled: {name} -->");
        Assert.Equal("```csharp", lines[marker + 1].Trim());
        var end = Array.FindIndex(lines, marker + 2, l => l.Trim() == "```");
        return string.Join('\n', lines[(marker + 2)..end]);
    }

    /// <summary>The runtime's own assemblies (ASP.NET Core's shared framework included) and the ones this test loaded.</summary>
    private static List<MetadataReference> References()
    {
        // Load what the snippets use, so their assemblies are among the references.
        _ = typeof(Hokusai.Bus.Receiver.HokusaiReceiverOptions);
        _ = typeof(MassTransit.Testing.ITestHarness);
        _ = typeof(HokusaiWebhookOptions);
        _ = typeof(HokusaiRedisOptions);
        _ = typeof(ModelRegisteredPublishExtensions);
        _ = typeof(Hokusai.Bus.Receiver.HokusaiReceiverRedisExtensions);
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location))
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .Distinct(StringComparer.Ordinal)
            .Where(path => IsManaged(path));
        return [.. paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    }

    private static bool IsManaged(string path)
    {
        try
        {
            _ = AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
