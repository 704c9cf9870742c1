namespace Hokusai.Bus.Host;

/// <summary><c>Hokusai.Bus.Host probe URL</c>: the container's health check without curl; exit 0 when the URL answers 2xx.</summary>
internal static class Probe
{
    public static async Task<int> RunAsync(string url)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        try
        {
            return (await probe.GetAsync(url)).IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return 1;
        }
    }
}
