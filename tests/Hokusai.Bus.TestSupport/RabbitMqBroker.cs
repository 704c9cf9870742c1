using System.Diagnostics;
using System.Globalization;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// The private test node itself (the one scripts/services.sh starts, never another broker on the machine): its global settings and its log. Tests that change a
/// setting restore it when disposed, and run in a collection of their own so no other test sees the change.
/// </summary>
public sealed class RabbitMqBroker : IAsyncDisposable
{
    /// <summary>RabbitMQ's default consumer (acknowledgement) timeout, 30 minutes.</summary>
    public static readonly TimeSpan DefaultConsumerTimeout = TimeSpan.FromMinutes(30);

    private static readonly string LogFile = Path.Combine(Services.Folder, "rabbitmq", "log", Services.RabbitMqNode + ".log");

    private bool _changed;

    /// <summary>
    /// Lowers (or raises) the broker's <c>consumer_timeout</c> at runtime, standing in for the default 30 minutes in a
    /// test that must outlast it: <c>rabbitmqctl eval 'application:set_env(rabbit, consumer_timeout, N).'</c>.
    /// </summary>
    public async Task SetConsumerTimeoutAsync(TimeSpan timeout)
    {
        _changed = true;
        await RabbitMqCtlAsync("eval",
            $"application:set_env(rabbit, consumer_timeout, {((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}).");
    }

    /// <summary>
    /// How often the broker has logged closing a channel for an acknowledgement timeout so far ("delivery
    /// acknowledgement on channel N timed out"); compare before and after.
    /// </summary>
    public static int AckTimeoutClosures() =>
        File.Exists(LogFile)
            ? File.ReadLines(LogFile).Count(line => line.Contains("delivery acknowledgement", StringComparison.OrdinalIgnoreCase)
                                                    || line.Contains("timed out waiting for", StringComparison.OrdinalIgnoreCase))
            : 0;

    public async ValueTask DisposeAsync()
    {
        if (_changed)
        {
            await RabbitMqCtlAsync("eval",
                $"application:set_env(rabbit, consumer_timeout, {((long)DefaultConsumerTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}).");
        }
    }

    /// <summary>
    /// Runs <c>rabbitmqctl</c> against the private node (e.g. <c>stop_app</c>, <c>start_app</c>) through
    /// <c>scripts/services.sh ctl</c>, which gives it that node's name and cookie; throws if it fails.
    /// </summary>
    public static async Task RabbitMqCtlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(BuildOutput.RepositoryRoot, "scripts", "services.sh"), "ctl", .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output} {await error}");
        }
    }
}
