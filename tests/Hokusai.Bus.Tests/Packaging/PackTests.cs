using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>The README's pack command, run as written (from the Release build the test command made), and what a package page shows.</summary>
public sealed partial class PackTests
{
    private static readonly string[] Packages =
    [
        "Hokusai.Bus.Contracts", "Hokusai.Bus.Producer", "Hokusai.Bus", "Hokusai.Bus.Redis", "Hokusai.Bus.Receiver",
        "Hokusai.Bus.Receiver.Redis", "Hokusai.Bus.Cli",
    ];

    [Fact]
    public async Task The_readmes_pack_command_makes_every_package_with_its_readme_and_a_clean_description()
    {
        var output = Directory.CreateTempSubdirectory("hokusai-pack-").FullName;
        try
        {
            // The README's command, with --no-build (the test command has just built Release) and a private output folder.
            var start = new ProcessStartInfo("dotnet", ["pack", Repository.File("Hokusai.Bus.sln"), "-c", "Release", "--no-build", "-o", output])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Repository.File("."),
            };
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var pack = Process.Start(start)!;
            var log = pack.StandardOutput.ReadToEndAsync();
            var errors = pack.StandardError.ReadToEndAsync();
            await pack.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
            Assert.True(pack.ExitCode == 0, await log + await errors);
            // Not even for the projects that are not packages (the web SDK warned "packaging has been disabled").
            Assert.DoesNotContain("warning", await log + await errors, StringComparison.OrdinalIgnoreCase);

            foreach (var package in Packages)
            {
                var file = Assert.Single(Directory.GetFiles(output, $"{package}.0*.nupkg"));
                using var zip = ZipFile.OpenRead(file);
                var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                string? Field(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

                Assert.Equal("README.md", Field("readme"));
                var repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
                Assert.Equal("https://github.com/Hokusai-protocol/hokusai-bus", repository.Attribute("url")?.Value);
                Assert.Equal("git", repository.Attribute("type")?.Value);
                Assert.Equal("https://github.com/Hokusai-protocol/hokusai-bus", Field("projectUrl"));
                var versions = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
                    .GroupBy(e => e.Attribute("id")!.Value, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.First().Attribute("version")?.Value, StringComparer.Ordinal);
                var dependencies = versions.Keys.ToHashSet(StringComparer.Ordinal);
                // What each package brings into a user's project: the contracts nothing, the producer no HTTP, Polly or Redis.
                switch (package)
                {
                    case "Hokusai.Bus.Contracts":
                        Assert.Empty(dependencies);
                        break;
                    case "Hokusai.Bus.Producer":
                        Assert.Equal(["Hokusai.Bus.Contracts", "MassTransit.Abstractions"], dependencies.Order());
                        break;
                    case "Hokusai.Bus.Receiver":
                        Assert.Equal(["Hokusai.Bus.Contracts"], dependencies.Order());
                        break;
                    case "Hokusai.Bus":
                        Assert.DoesNotContain("StackExchange.Redis", dependencies);
                        Assert.Contains("MassTransit.RabbitMQ", dependencies);
                        break;
                    case "Hokusai.Bus.Redis":
                        // Exactly the plugin version it was built with: a newer plugin beside an older add-on is never
                        // resolved, so a change to their seam cannot fail at run time.
                        Assert.Matches(@"^\[0\.\d+\.\d+\]$", versions["Hokusai.Bus"]);
                        Assert.Contains("StackExchange.Redis", dependencies);
                        break;
                }

                Assert.DoesNotContain("))", Field("description"), StringComparison.Ordinal);
                using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
                var text = await readme.ReadToEndAsync();
                // A package page shows the README alone: a relative link there leads nowhere.
                Assert.True(!RelativeLink().IsMatch(text), $"{package}'s README has a relative link: {RelativeLink().Match(text).Value}");
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [GeneratedRegex(@"\]\((?!https?://|#|mailto:)[^)]+\)")]
    private static partial Regex RelativeLink();
}
