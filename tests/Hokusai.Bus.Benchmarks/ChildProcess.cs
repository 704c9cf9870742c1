using System.Diagnostics;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// A baseline run as a child of this benchmark: this same program in another mode, with the host's runtime settings
/// (Server GC, ASP.NET Core's default, and no thread-pool spinning, its csproj), so /proc gives its CPU alone. It is
/// ready when it prints <c>MODE ready</c>; it runs until its stdin closes.
/// </summary>
internal static class ChildProcess
{
    /// <summary>Starts <paramref name="mode"/> with <paramref name="args"/>; the process and what its ready line says after <c>MODE ready</c>.</summary>
    public static async Task<(Process Process, string Ready)> StartAsync(string mode, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
            // Its own folder, as the host's (HostProcess): the generic host watches its content root with subfolders,
            // and the repository's holds RabbitMQ's data, written on every publish.
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        start.ArgumentList.Add(mode);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_gcServer"] = "1";
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        start.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
        var process = Process.Start(start)!;
        var readyLine = $"{mode} ready";
        // Skip the child's start-up log lines up to its ready line.
        var ready = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith(readyLine, StringComparison.Ordinal))
                {
                    return line[readyLine.Length..].Trim();
                }
            }

            return null;
        });
        if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(30))) != ready || await ready is not { } said)
        {
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"the {mode} baseline did not start");
        }

        // Keep reading its output so that a full pipe never stalls it.
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        return (process, said);
    }

    /// <summary>Closes its stdin, and kills it if it has not exited 10 s later.</summary>
    public static void Stop(Process process)
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
        }

        process.Dispose();
    }
}
