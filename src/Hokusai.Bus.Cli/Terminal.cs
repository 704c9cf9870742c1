using System.Globalization;
using Spectre.Console;

namespace Hokusai.Bus.Cli;

/// <summary>Console set-up shared by every command.</summary>
internal static class Terminal
{
    public static void Configure()
    {
        if (Console.IsOutputRedirected)
        {
            // Piped or captured output: wide enough that keys and reasons are never wrapped mid-word.
            AnsiConsole.Profile.Width = 512;
        }
    }

    /// <summary>An error line on stderr.</summary>
    public static void Error(string message) => Console.Error.WriteLine("Error: " + message);

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Ms(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
}
