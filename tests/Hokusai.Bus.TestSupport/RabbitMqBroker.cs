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
    private bool _tickChanged;

    /// <summary>
    /// How often the node checks each channel for acknowledgement timeouts (<c>channel_tick_interval</c>, one minute by
    /// default), for channels opened from now on: a test can see a short <c>consumer_timeout</c> act within a second.
    /// Set back to the default when disposed.
    /// </summary>
    public async Task SetChannelTickIntervalAsync(TimeSpan interval)
    {
        _tickChanged = true;
        await RabbitMqCtlAsync("eval",
            $"application:set_env(rabbit, channel_tick_interval, {((long)interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}).");
    }

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
    /// How often the broker has closed a channel for an acknowledgement timeout so far (its error line "... caused a
    /// channel exception precondition_failed: delivery acknowledgement on channel N timed out"); compare before and after.
    /// </summary>
    public static int AckTimeoutClosures() =>
        File.Exists(LogFile)
            ? File.ReadLines(LogFile).Count(line => line.Contains("delivery acknowledgement", StringComparison.OrdinalIgnoreCase)
                                                    && line.Contains("channel exception", StringComparison.OrdinalIgnoreCase))
            : 0;

    public async ValueTask DisposeAsync()
    {
        if (_tickChanged)
        {
            // Set back, never unset: a channel opened without the setting crashes (init_tick_timer expects it).
            await RabbitMqCtlAsync("eval", "application:set_env(rabbit, channel_tick_interval, 60000).");
        }

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
    public static async Task RabbitMqCtlAsync(params string[] arguments) => await RunScriptAsync("services.sh", ["ctl", .. arguments]);

    /// <summary>Runs <c>scripts/&lt;script&gt;</c> with <paramref name="arguments"/>; its output, or an exception saying how it failed.</summary>
    internal static async Task<string> RunScriptAsync(string script, string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(BuildOutput.RepositoryRoot, "scripts", script), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output} {await error}");
        }

        return await output;
    }
}
