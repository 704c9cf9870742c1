using System.Diagnostics;
using System.Text;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// The real consumer host (src/Hokusai.Bus.Host) run as a child process with the given environment, its output
/// captured, so tests can stop it with SIGTERM or SIGKILL like an orchestrator would.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private const string BusStarted = "Bus started";
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Recorded _recorded;
    private bool _exited;

    private HostProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        _recorded = new Recorded(() =>
            "the output's end:\n" + _output.ToString(Math.Max(0, _output.Length - 4000), Math.Min(4000, _output.Length)));
    }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    public string Output => _recorded.Read(_output.ToString);

    public bool HasExited => _process.HasExited;

    /// <summary>The host's resident memory now, in MB, from /proc.</summary>
    public double ResidentMegabytes =>
        File.ReadLines($"/proc/{_process.Id}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024)
            .First();

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the host and, unless <paramref name="waitForBus"/> is false, waits until its bus has started.</summary>
    public static async Task<HostProcess> StartAsync(IDictionary<string, string> environment, bool waitForBus = true)
    {
        var port = LoopbackPort.Free();
        // HOKUSAI_HOST_DLL: another build of the host (the benchmarks' A/B of a change, an earlier commit built elsewhere).
        var dll = environment.TryGetValue(OtherBuild, out var other) ? other : HostDll();
        var info = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            // Its own folder, as the image's WORKDIR /app: ASP.NET Core watches its content root (for appsettings
            // changes) with subfolders, and the repository's holds RabbitMQ's data, written on every publish.
            WorkingDirectory = Path.GetDirectoryName(dll),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Information";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        info.Environment["Logging__LogLevel__Hokusai.Bus"] = "Debug";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var host = new HostProcess(process, port);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.Exited += (_, _) => host._recorded.Record(() => host._exited = true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (waitForBus)
        {
            await host._recorded.WaitAsync(() => host._exited || host.HasPrinted(BusStarted), TimeSpan.FromSeconds(60), "the bus to start");
            if (!host.HasPrinted(BusStarted))
            {
                throw new InvalidOperationException("The host exited before its bus started:\n" + host.Output);
            }
        }

        return host;
    }

    /// <summary>Waits until the host has printed a line containing <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout, string what) =>
        _recorded.WaitAsync(() => HasPrinted(text), timeout, $"{what} ('{text}' in the host's output)");

    /// <summary>SIGTERM, as docker stop or Kubernetes send, then waits for a graceful exit.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, "TERM");
            await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process dies at once, with whatever it had in flight.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _recorded.Record(() => _output.AppendLine(line));
    }

    private bool HasPrinted(string text) => Output.Contains(text, StringComparison.Ordinal);

    private static int Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }

    /// <summary>The variable that names another build of the host to start; see <see cref="StartAsync"/>.</summary>
    public const string OtherBuild = "HOKUSAI_HOST_DLL";

    private static string HostDll() => BuildOutput.Dll("Hokusai.Bus.Host", "Hokusai.Bus.Host.dll");
}
