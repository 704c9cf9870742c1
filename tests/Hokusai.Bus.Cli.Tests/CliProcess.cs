using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>What a finished run of the tool printed, and its exit code.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// The built tool (src/Hokusai.Bus.Cli, hokusai-bus.dll) run as <c>dotnet hokusai-bus.dll ...</c>, with its output
/// captured line by line so a test can await a line instead of sleeping.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(45);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly List<string> _lines = [];
    private readonly Recorded _recorded;

    private CliProcess(Process process)
    {
        _process = process;
        _recorded = new Recorded(() => $"\n--- stdout ---\n{_output}\n--- stderr ---\n{_error}");
    }

    public int Id => _process.Id;

    public string Output => _recorded.Read(_output.ToString);

    public string Error => _recorded.Read(_error.ToString);

    /// <summary>Runs the tool to its end and returns what it printed.</summary>
    public static async Task<CliResult> RunAsync(
        IEnumerable<string> args, byte[]? stdin = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var cli = Start(args, stdin is not null, environment);
        if (stdin is not null)
        {
            await cli._process.StandardInput.BaseStream.WriteAsync(stdin);
            cli._process.StandardInput.Close();
        }

        var exitCode = await cli.WaitForExitAsync(timeout ?? DefaultTimeout);
        return new CliResult(exitCode, cli.Output, cli.Error);
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(args, null, null);

    /// <summary>
    /// Starts the tool; stdin is closed at once unless <paramref name="keepStdin"/>. Its environment has no secret or
    /// broker of the developer's shell, only what <paramref name="environment"/> adds.
    /// </summary>
    public static CliProcess Start(IEnumerable<string> args, bool keepStdin = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(CliDll());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Only what a test passes: no secret or broker from the developer's shell.
        info.Environment.Remove("WEBHOOK_SECRET");
        info.Environment.Remove("RABBITMQ_URL");
        info.Environment.Remove("RABBITMQ_MANAGEMENT_URL");
        info.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => cli.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => cli.OnLine(e.Data, isError: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!keepStdin)
        {
            process.StandardInput.Close();
        }

        return cli;
    }

    /// <summary>The first stdout line that matches, already printed or still to come.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what) =>
        _recorded.WaitAsync(() => _lines.FirstOrDefault(match), timeout, $"a line '{what}'");

    /// <summary>Waits for the exit (and the end of its output); kills it and fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"hokusai-bus did not exit within {timeout.TotalSeconds} s.\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as an orchestrator or Ctrl+C would stop it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        _recorded.Record(() =>
        {
            (isError ? _error : _output).AppendLine(line);
            if (!isError)
            {
                _lines.Add(line);
            }
        });
    }

    private static string CliDll() => BuildOutput.Dll("Hokusai.Bus.Cli", "hokusai-bus.dll");
}
