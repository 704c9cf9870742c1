using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The package READMEs' "Installing from a folder you packed" block (<c>&lt;!-- tested: local-install --&gt;</c>), run as
/// written in a new project outside the repository, from an empty package cache (<c>NUGET_PACKAGES</c> a new empty
/// folder, so nothing comes from packages a developer restored before): pack, <c>dotnet new nugetconfig</c>, the folder
/// added beside nuget.org by its absolute path, <c>dotnet add package</c>. Its dependencies (StackExchange.Redis,
/// MassTransit) come from nuget.org; then the README's own snippet builds with <c>dotnet build</c>.
/// </summary>
public sealed class LocalInstallTests(ITestOutputHelper output)
{
    private const string Marker = "<!-- tested: local-install -->";
    private const string Placeholder = "/path/to/hokusai-bus/artifacts/packages";

    private static readonly string[] Readmes =
    [
        "contracts/Hokusai.Bus.Contracts/README.md", "src/Hokusai.Bus.Producer/README.md", "src/Hokusai.Bus/README.md",
        "src/Hokusai.Bus.Redis/README.md", "src/Hokusai.Bus.Receiver/README.md", "src/Hokusai.Bus.Receiver.Redis/README.md",
    ];

    /// <summary>The README's pack command, run once for every test here: the solution packed into a private folder.</summary>
    private static readonly Lazy<Task<string>> Packed = new(PackAsync);

    [Fact]
    public void Every_package_readme_gives_the_same_commands_for_its_own_package()
    {
        var reference = Commands("src/Hokusai.Bus.Receiver.Redis/README.md");
        foreach (var readme in Readmes)
        {
            var package = Path.GetFileName(Path.GetDirectoryName(Repository.File(readme)))!;
            Assert.Equal(
                reference.Select(c => c.Replace("Hokusai.Bus.Receiver.Redis", package, StringComparison.Ordinal)),
                Commands(readme));
            Assert.Contains(Placeholder, File.ReadAllText(Repository.File(readme)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public Task The_receiver_redis_readmes_commands_install_it_with_its_redis_client_from_nugetorg_and_its_snippet_builds() =>
        InstallAsync("src/Hokusai.Bus.Receiver.Redis/README.md", "receiver-redis-package");

    [Fact]
    public Task The_producer_readmes_commands_install_it_with_MassTransit_from_nugetorg_and_its_snippet_builds() =>
        InstallAsync("src/Hokusai.Bus.Producer/README.md", "producer-package");

    private async Task InstallAsync(string readme, string snippet)
    {
        var packages = await Packed.Value;
        var (lines, marker, code) = ReadmeBlock(readme, snippet);
        var project = SnippetProject.For(readme, lines, marker, code);
        var work = Directory.CreateTempSubdirectory("hokusai-install-");
        var cache = Directory.CreateTempSubdirectory("hokusai-nuget-packages-"); // an empty package cache
        try
        {
            var folder = Path.Combine(work.FullName, "app");
            var started = Stopwatch.GetTimestamp();
            await RunAsync(work.FullName, cache.FullName, "dotnet", "new", project.Template, "-o", folder);
            foreach (var command in Commands(readme).Where(c => !c.StartsWith("dotnet pack ", StringComparison.Ordinal)))
            {
                var words = command.Replace(Placeholder, packages, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                await RunAsync(folder, cache.FullName, words[0], words[1..]);
            }

            var installed = Stopwatch.GetElapsedTime(started);
            await File.WriteAllTextAsync(Path.Combine(folder, "Program.cs"), code);
            await RunAsync(folder, cache.FullName, "dotnet", "build", "-nologo", "-v", "q");
            output.WriteLine($"{readme}: new project and install from an empty cache {installed.TotalSeconds:0.0} s, "
                + $"with the build {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");

            // What was restored came from the two sources, into the empty cache: ours from the folder, the rest from nuget.org.
            var package = Path.GetFileName(Path.GetDirectoryName(Repository.File(readme)))!;
            Assert.True(Directory.Exists(Path.Combine(cache.FullName, package.ToLowerInvariant())), $"{package} is not in the new cache");
        }
        finally
        {
            work.Delete(recursive: true);
            cache.Delete(recursive: true);
        }
    }

    /// <summary>The block's commands, comments cut, one per line.</summary>
    private static List<string> Commands(string readme)
    {
        var lines = File.ReadAllLines(Repository.File(readme));
        var marker = Array.FindIndex(lines, l => l.Trim() == Marker);
        Assert.True(marker >= 0, $"{readme} has no {Marker} block");
        Assert.Equal("```bash", lines[marker + 1].Trim());
        var end = Array.FindIndex(lines, marker + 2, l => l.Trim() == "```");
        return [.. lines[(marker + 2)..end].Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)];
    }

    private static (string[] Lines, int Marker, string Code) ReadmeBlock(string readme, string name)
    {
        var lines = File.ReadAllLines(Repository.File(readme));
        var marker = Array.FindIndex(lines, l => l.Trim() == $"<!-- compiled: {name} -->");
        var end = Array.FindIndex(lines, marker + 2, l => l.Trim() == "```");
        return (lines, marker, string.Join('\n', lines[(marker + 2)..end]));
    }

    /// <summary>The README's pack line, from the Release build the test command made, into a private folder.</summary>
    private static async Task<string> PackAsync()
    {
        var pack = Commands(Readmes[0]).Single(c => c.StartsWith("dotnet pack ", StringComparison.Ordinal)).Split(' ');
        var folder = Directory.CreateTempSubdirectory("hokusai-packages-").FullName;
        var arguments = pack[1..].Select(a => a == "artifacts/packages" ? folder : a).Append("--no-build").ToArray();
        await RunAsync(Repository.Root, null, "dotnet", arguments);
        return folder;
    }

    private static async Task RunAsync(string directory, string? packageCache, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (packageCache is not null)
        {
            start.Environment["NUGET_PACKAGES"] = packageCache;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var all = new StringBuilder().Append(await stdout).Append(await stderr).ToString();
        Assert.True(process.ExitCode == 0, $"`{file} {string.Join(' ', arguments)}` in {directory} exited {process.ExitCode}:\n{all}");
    }
}
