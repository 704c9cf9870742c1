using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>
/// The README's "Your first delivery in 5 minutes", run as a user runs it: its commands read from the README, in its
/// order (a broker of its own from scripts/services.sh, <c>receive</c>, the host, <c>publish</c>), and the delivery line
/// it shows compared with what the receiver prints. <c>dotnet run --project src/X -- ARGS</c> runs the built X with
/// ARGS, as <c>dotnet run</c> does once it has built it. Only the ports differ from the README's, so that the test runs
/// beside the tests' own broker and other tests: its broker is a node of its own (another name, ports and data folder),
/// stopped at the end.
/// </summary>
public sealed partial class ReadmeFirstDeliveryTests
{
    private const string Heading = "## Your first delivery in 5 minutes";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [RabbitMqServerFact]
    public async Task The_readmes_first_delivery_arrives_as_it_shows()
    {
        var (commands, expected) = ReadSection();
        Assert.Collection(
            commands,
            c => Assert.StartsWith("bash scripts/services.sh start", c, StringComparison.Ordinal),
            c => Assert.Contains("--project src/Hokusai.Bus.Cli -- receive ", c, StringComparison.Ordinal),
            c => Assert.Contains("--project src/Hokusai.Bus.Host ", c, StringComparison.Ordinal),
            c => Assert.Contains("--project src/Hokusai.Bus.Cli -- publish ", c, StringComparison.Ordinal));
        // The README's ports are services.sh's defaults.
        var services = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, "scripts", "services.sh"));
        Assert.Contains("AMQP_PORT=${HOKUSAI_TEST_AMQP_PORT:-5682}", services, StringComparison.Ordinal);
        Assert.Contains("MGMT_PORT=${HOKUSAI_TEST_MANAGEMENT_PORT:-15682}", services, StringComparison.Ordinal);

        var ports = new Ports();
        var folder = Directory.CreateTempSubdirectory("hokusai-readme-broker-");
        var broker = new Dictionary<string, string>
        {
            ["HOKUSAI_TEST_AMQP_PORT"] = ports.Amqp.ToString(CultureInfo.InvariantCulture),
            ["HOKUSAI_TEST_MANAGEMENT_PORT"] = ports.Management.ToString(CultureInfo.InvariantCulture),
            ["HOKUSAI_TEST_RABBITMQ_NODE"] = $"hokusai-readme-{ports.Amqp}@localhost",
            ["HOKUSAI_TEST_SERVICES_DIR"] = folder.FullName,
        };
        UserProcess? receiver = null, host = null;
        try
        {
            // 1. The broker: its start returns once it answers (AMQP and the management API).
            var start = await UserProcess.RunAsync(ports.Apply(commands[0]), broker);
            Assert.True(start.ExitCode == 0, start.Output);
            Assert.Contains($"rabbitmq ready on amqp://guest:guest@127.0.0.1:{ports.Amqp}/", start.Output, StringComparison.Ordinal);

            // 2. The receiver, in a terminal of its own.
            receiver = UserProcess.Start(ports.Apply(commands[1]), new Dictionary<string, string>());
            await receiver.WaitForLineAsync(l => l.StartsWith("Listening on http://127.0.0.1:", StringComparison.Ordinal), "Listening on", Wait);

            // 3. The host, in a second one, ready when it logs "Bus started".
            host = UserProcess.Start(ports.Apply(commands[2]), new Dictionary<string, string>());
            await host.WaitForLineAsync(l => l.Contains("Bus started", StringComparison.Ordinal), "Bus started", Wait);

            // 4. The registration, from a third.
            var publish = await UserProcess.RunAsync(ports.Apply(commands[3]), new Dictionary<string, string>());
            Assert.True(publish.ExitCode == 0, publish.Output);

            var delivered = await receiver.WaitForLineAsync(l => l.StartsWith("#1 ", StringComparison.Ordinal), "#1", Wait);
            Assert.Equal(expected, delivered.TrimEnd());
        }
        finally
        {
            await (host?.DisposeAsync() ?? ValueTask.CompletedTask);
            await (receiver?.DisposeAsync() ?? ValueTask.CompletedTask);
            await StopNodeAsync(broker, folder);
        }
    }

    /// <summary>Stops the test's own node (the name and folder above, never the tests' broker), then removes its folder.</summary>
    private static async Task StopNodeAsync(Dictionary<string, string> broker, DirectoryInfo folder)
    {
        await UserProcess.RunAsync("bash scripts/services.sh ctl stop", broker);
        var pidFile = Path.Combine(folder.FullName, "rabbitmq", "rabbitmq.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            for (var waited = 0; Directory.Exists($"/proc/{pid}") && waited < 300; waited++)
            {
                await Task.Delay(100);
            }

            if (Directory.Exists($"/proc/{pid}"))
            {
                using var kill = Process.Start("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }
        }

        folder.Delete(recursive: true);
    }

    /// <summary>The section's commands (each ```bash block's lines, joined where they end in a backslash) and the line it shows.</summary>
    private static (List<string> Commands, string Expected) ReadSection()
    {
        var readme = File.ReadAllLines(Path.Combine(BuildOutput.RepositoryRoot, "README.md"));
        var start = Array.IndexOf(readme, Heading);
        Assert.True(start >= 0, $"README.md has no heading '{Heading}'");
        var section = readme.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        var commands = new List<string>();
        var shown = new List<string>();
        string? fence = null;
        var command = new StringBuilder();
        foreach (var line in section)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fence = fence is null ? line[3..] : null;
                continue;
            }

            if (fence == "bash" && line.Trim().Length > 0 && !line.TrimStart().StartsWith('#'))
            {
                command.Append(line.TrimEnd().TrimEnd('\\').Trim()).Append(' ');
                if (!line.TrimEnd().EndsWith('\\'))
                {
                    commands.Add(command.ToString().Trim());
                    command.Clear();
                }
            }
            else if (fence == "text")
            {
                shown.Add(line);
            }
        }

        return (commands, Assert.Single(shown));
    }

    /// <summary>Free ports for the README's: the broker's AMQP and management ports, the receiver's and the host's.</summary>
    private sealed class Ports
    {
        public Ports()
        {
            // The node's Erlang distribution listens on the AMQP port + 20000 (scripts/services.sh): both must be free.
            for (var candidate = 21000 + Random.Shared.Next(20000); ; candidate = 21000 + Random.Shared.Next(20000))
            {
                if (IsFree(candidate) && IsFree(candidate + 20000))
                {
                    Amqp = candidate;
                    break;
                }
            }

            Management = LoopbackPort.Free();
            Receiver = LoopbackPort.Free();
            Host = LoopbackPort.Free();
        }

        public int Amqp { get; }

        public int Management { get; }

        public int Receiver { get; }

        public int Host { get; }

        /// <summary>The command with these ports for the README's 5682, 8080 and 8090; each must be there.</summary>
        public string Apply(string command)
        {
            var replaced = command
                .Replace("127.0.0.1:5682", $"127.0.0.1:{Amqp}", StringComparison.Ordinal)
                .Replace("--port 8080", $"--port {Receiver}", StringComparison.Ordinal)
                .Replace("127.0.0.1:8080", $"127.0.0.1:{Receiver}", StringComparison.Ordinal)
                .Replace("127.0.0.1:8090", $"127.0.0.1:{Host}", StringComparison.Ordinal);
            Assert.False(ReadmePort().IsMatch(replaced), $"a port of the README is left in: {replaced}");
            return replaced;
        }

        private static bool IsFree(int port)
        {
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }
    }

    [GeneratedRegex(@"\b(5682|15682|8080|8090)\b")]
    private static partial Regex ReadmePort();

    /// <summary>
    /// A README command as a process: <c>NAME=value</c> words first are its environment; <c>dotnet run --project src/X
    /// -- ARGS</c> runs the built X; anything else runs under <c>bash -c</c> in the repository.
    /// </summary>
    private sealed partial class UserProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly List<string> _lines = [];
        private readonly Recorded _recorded;

        private UserProcess(Process process)
        {
            _process = process;
            _recorded = new Recorded(() => "\n--- output ---\n" + _output);
        }

        private string Output => _recorded.Read(_output.ToString);

        public static UserProcess Start(string command, IReadOnlyDictionary<string, string> environment)
        {
            var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            var info = new ProcessStartInfo
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = BuildOutput.RepositoryRoot,
            };
            // Only what the README sets, as in a new terminal: no secret or broker from the test's environment.
            foreach (var name in new[] { "WEBHOOK_URL", "WEBHOOK_SECRET", "RABBITMQ_URL" })
            {
                info.Environment.Remove(name);
            }

            info.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
            info.Environment["NO_COLOR"] = "1";
            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }

            while (words.Count > 0 && EnvironmentWord().Match(words[0]) is { Success: true } assignment)
            {
                info.Environment[assignment.Groups["name"].Value] = assignment.Groups["value"].Value;
                words.RemoveAt(0);
            }

            if (words is ["dotnet", "run", "--project", var project, "--", ..])
            {
                info.FileName = "dotnet";
                info.ArgumentList.Add(Dll(project));
                foreach (var word in words.Skip(5))
                {
                    info.ArgumentList.Add(word);
                }
            }
            else
            {
                info.FileName = "bash";
                info.ArgumentList.Add("-c");
                info.ArgumentList.Add(string.Join(' ', words));
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            var started = new UserProcess(process);
            process.OutputDataReceived += (_, e) => started.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => started.OnLine(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            return started;
        }

        /// <summary>Runs the command to its end (at most 3 minutes) and returns its exit code and output.</summary>
        public static async Task<(int ExitCode, string Output)> RunAsync(string command, IReadOnlyDictionary<string, string> environment)
        {
            await using var run = Start(command, environment);
            try
            {
                await run._process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"`{command}` did not finish within 3 minutes:\n{run.Output}");
            }

            return (run._process.ExitCode, $"`{command}` exited {run._process.ExitCode}:\n{run.Output}");
        }

        /// <summary>The first line of its output that matches.</summary>
        public Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan timeout) =>
            _recorded.WaitAsync(() => _lines.FirstOrDefault(match), timeout, $"a line '{what}'");

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                try
                {
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }

            _process.Dispose();
        }

        /// <summary>src/X's build output: its assembly (the csproj's AssemblyName, else X).</summary>
        private static string Dll(string project)
        {
            var name = Path.GetFileName(project.TrimEnd('/'));
            var csproj = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, project, name + ".csproj"));
            var assembly = AssemblyName().Match(csproj) is { Success: true } m ? m.Groups["name"].Value : name;
            return BuildOutput.Dll(name, assembly + ".dll");
        }

        private void OnLine(string? line)
        {
            if (line is not null)
            {
                _recorded.Record(() =>
                {
                    _output.AppendLine(line);
                    _lines.Add(line);
                });
            }
        }

        [GeneratedRegex(@"^(?<name>[A-Z_][A-Z0-9_]*)=(?<value>\S*)$")]
        private static partial Regex EnvironmentWord();

        [GeneratedRegex(@"<AssemblyName>(?<name>[^<]+)</AssemblyName>")]
        private static partial Regex AssemblyName();
    }
}

/// <summary>A fact that starts a RabbitMQ node of its own: it needs Debian's rabbitmq-server (skipped without it, except under CI).</summary>
public sealed class RabbitMqServerFactAttribute : FactAttribute
{
    public RabbitMqServerFactAttribute()
    {
        if (!Services.InCi && !File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
        {
            Skip = "Debian's rabbitmq-server is not installed; `bash scripts/services.sh start rabbitmq` installs it (as root).";
        }
    }
}
