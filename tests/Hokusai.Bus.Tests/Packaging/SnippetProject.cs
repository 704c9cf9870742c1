using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The project a user makes for a README snippet, as the README tells them: the template of <c>dotnet new</c> and the
/// packages of <c>dotnet add package</c>, read from the paragraph just above the block and the block's own
/// <c>// dotnet ...</c> comments. Its references are that template's framework and exactly those packages with their
/// dependencies (from this test project's restore graph), nothing else of this repository.
/// </summary>
internal sealed partial record SnippetProject(string Template, IReadOnlyList<string> Packages)
{
    private static readonly string[] ConsoleUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly string[] WorkerUsings =
    [
        .. ConsoleUsings, "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    private static readonly string[] WebUsings =
    [
        .. WorkerUsings, "System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing",
    ];

    private static readonly Lazy<Graph> Restored = new(Graph.Read);

    /// <summary>Whether the project builds an executable (a test project's code is a library the runner loads).</summary>
    public OutputKind Output => Template == "xunit" ? OutputKind.DynamicallyLinkedLibrary : OutputKind.ConsoleApplication;

    /// <summary>The template's implicit usings (<c>ImplicitUsings</c> on, as every template sets it).</summary>
    public IReadOnlyList<string> Usings => Template switch
    {
        "web" => WebUsings,
        "worker" => WorkerUsings,
        "xunit" => [.. ConsoleUsings, "Xunit"],
        _ => ConsoleUsings,
    };

    /// <summary>Reads the setup the README gives for the block after <paramref name="marker"/>; fails naming what is missing.</summary>
    public static SnippetProject For(string readme, string[] lines, int marker, string code)
    {
        var end = marker;
        while (end > 0 && lines[end - 1].Trim().Length == 0)
        {
            end--;
        }

        var start = end;
        while (start > 0 && lines[start - 1].Trim().Length > 0)
        {
            start--;
        }

        var told = string.Join('\n', lines[start..end]) + '\n'
                   + string.Join('\n', code.Split('\n').Where(l => l.TrimStart().StartsWith("// dotnet ", StringComparison.Ordinal)));
        var template = NewCommand().Match(told);
        Assert.True(template.Success,
            $"{readme} line {marker + 1}: the paragraph above the block (or a '// dotnet new ...' comment in it) must say which project to make, e.g. `dotnet new worker`");
        var packages = AddPackage().Matches(told).Select(m => m.Groups["id"].Value).Distinct().ToList();
        foreach (Match add in AddPackage().Matches(told))
        {
            if (add.Groups["id"].Value.StartsWith("MassTransit", StringComparison.Ordinal))
            {
                // A plain `dotnet add package MassTransit*` takes 9.x, which refuses to start without a commercial license.
                Assert.True(add.Groups["version"].Value.StartsWith("8.5.", StringComparison.Ordinal),
                    $"{readme} line {marker + 1}: `{add.Value}` must pin 8.5.x (--version 8.5.12)");
            }
        }

        return new SnippetProject(template.Groups["template"].Value, packages);
    }

    /// <summary>The template's framework assemblies and every assembly of the packages and their dependencies.</summary>
    public List<MetadataReference> References()
    {
        var graph = Restored.Value;
        var aspNetCore = Template == "web";
        var files = new List<string>();
        foreach (var package in Packages)
        {
            Assert.True(graph.Libraries.ContainsKey(package), $"package {package} is not one this repository builds or restores");
            aspNetCore |= graph.Closure(package).Any(graph.NeedsAspNetCore);
            files.AddRange(graph.Closure(package).SelectMany(graph.Assemblies));
        }

        if (Template == "xunit")
        {
            files.AddRange(new[] { "xunit", "Microsoft.NET.Test.Sdk" }.Where(graph.Libraries.ContainsKey).SelectMany(graph.Closure).SelectMany(graph.Assemblies));
        }

        // The shared frameworks as installed (not this process's assemblies, some of which are newer package copies).
        var core = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var aspNetCoreDirectory = Path.Combine(core, "..", "..", "Microsoft.AspNetCore.App", Path.GetFileName(core));
        var aspNetCoreFiles = Directory.GetFiles(aspNetCoreDirectory, "*.dll");
        var pruned = files.Where(f => !File.Exists(f)).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var framework = Directory.GetFiles(core, "*.dll")
            .Concat(aspNetCoreFiles.Where(f =>
                aspNetCore
                // The worker template's Microsoft.Extensions.Hosting package and its dependencies: the same assemblies
                // as ASP.NET Core's shared framework carries.
                || (Template == "worker" && Path.GetFileName(f).StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
                // A package's dependency that the framework provides, so the restore graph left it out.
                || pruned.Contains(Path.GetFileName(f))))
            .ToList();
        var names = framework.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        return
        [
            .. framework.Concat(files.Where(File.Exists).Where(f => !names.Contains(Path.GetFileName(f))))
                .Where(IsManaged)
                .DistinctBy(Path.GetFileName, StringComparer.Ordinal)
                .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)),
        ];
    }

    private static bool IsManaged(string path)
    {
        try
        {
            _ = System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"dotnet new (?<template>console|worker|web|xunit)\b")]
    private static partial Regex NewCommand();

    [GeneratedRegex(@"dotnet add package (?<id>[A-Za-z0-9_.]+)(?: --version (?<version>[0-9][0-9A-Za-z.\-]*))?")]
    private static partial Regex AddPackage();

    /// <summary>The test project's restore graph: each library's dependencies and compile assemblies.</summary>
    private sealed class Graph
    {
        public Dictionary<string, (string Type, string Version, string[] Dependencies, string[] Compile, string? Project)> Libraries { get; } =
            new(StringComparer.OrdinalIgnoreCase);

        private string _packages = "";

        public static Graph Read()
        {
            var assets = Path.Combine(Repository.Root, "tests", "Hokusai.Bus.Tests", "obj", "project.assets.json");
            using var json = JsonDocument.Parse(File.ReadAllBytes(assets));
            var root = json.RootElement;
            var graph = new Graph { _packages = root.GetProperty("packageFolders").EnumerateObject().First().Name };
            var libraries = root.GetProperty("libraries");
            foreach (var library in root.GetProperty("targets").EnumerateObject().First().Value.EnumerateObject())
            {
                var (name, version) = (library.Name.Split('/')[0], library.Name.Split('/')[1]);
                var value = library.Value;
                graph.Libraries[name] = (
                    value.GetProperty("type").GetString()!,
                    version,
                    value.TryGetProperty("dependencies", out var dependencies) ? [.. dependencies.EnumerateObject().Select(d => d.Name)] : [],
                    value.TryGetProperty("compile", out var compile) ? [.. compile.EnumerateObject().Select(c => c.Name).Where(c => !c.EndsWith("_._", StringComparison.Ordinal))] : [],
                    libraries.GetProperty(library.Name).TryGetProperty("path", out var path) ? path.GetString() : null);
            }

            return graph;
        }

        public IEnumerable<string> Closure(string package)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var queue = new Queue<string>([package]);
            while (queue.TryDequeue(out var next))
            {
                if (!seen.Add(next))
                {
                    continue;
                }

                if (Libraries.TryGetValue(next, out var library))
                {
                    foreach (var dependency in library.Dependencies)
                    {
                        queue.Enqueue(dependency);
                    }
                }
            }

            return seen;
        }

        /// <summary>A library's compile assemblies; a dependency the framework provides (pruned from the graph) by name.</summary>
        public IEnumerable<string> Assemblies(string name)
        {
            if (!Libraries.TryGetValue(name, out var library))
            {
                return [name + ".dll"]; // provided by the shared framework: matched by file name
            }

            return library.Type == "project"
                ? [Path.Combine(AppContext.BaseDirectory, name + ".dll")]
                : library.Compile.Select(c => Path.Combine(_packages, name.ToLowerInvariant(), library.Version.ToLowerInvariant(), c));
        }

        /// <summary>Whether a project of this repository references ASP.NET Core's shared framework (as its package then does).</summary>
        public bool NeedsAspNetCore(string name) =>
            Libraries.TryGetValue(name, out var library) && library is { Type: "project", Project: { } project }
            && File.ReadAllText(Path.Combine(Repository.Root, "tests", "Hokusai.Bus.Tests", project))
                .Contains("<FrameworkReference Include=\"Microsoft.AspNetCore.App\"", StringComparison.Ordinal);
    }
}
