using System.Globalization;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>Reads the host's Prometheus <c>/metrics</c>: what ops would scrape.</summary>
internal static class HostMetrics
{
    /// <summary>The sum of every series of <paramref name="name"/> (all label sets); 0 when absent.</summary>
    public static async Task<double> ReadAsync(HostProcess host, string name, string? endpoint = null)
    {
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        var text = await http.GetStringAsync("metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal)
                           && (line.Length == name.Length || line[name.Length] is ' ' or '{')
                           && (endpoint is null || line.Contains($"endpoint=\"{endpoint}\"", StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>Polls until <paramref name="name"/> reaches <paramref name="atLeast"/>.</summary>
    public static Task WaitForAsync(HostProcess host, string name, double atLeast, TimeSpan timeout) =>
        RabbitMqManagement.Eventually(async () => await ReadAsync(host, name) >= atLeast, timeout, $"{name} >= {atLeast}");
}
