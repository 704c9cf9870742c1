using System.Diagnostics;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// A private redis-server (the Debian package's binary) on 127.0.0.1 and a port of its own, so a test can stop and
/// restart Redis without touching anyone else's. No persistence.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string? _password;
    private Process? _process;

    private RedisServerProcess(int port, string? password)
    {
        Port = port;
        _password = password;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Starts a server; with <paramref name="password"/>, one that refuses clients without it (<c>requirepass</c>).</summary>
    public static async Task<RedisServerProcess> StartAsync(string? password = null)
    {
        var server = new RedisServerProcess(LoopbackPort.Free(), password);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts (or restarts) the server on the same port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var binary = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        string[] arguments =
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            .. _password is null ? Array.Empty<string>() : ["--requirepass", _password],
        ];
        _process = Process.Start(new ProcessStartInfo(binary, arguments)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        _process.BeginOutputReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Kills the server, as a crash or an outage would.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }
}
