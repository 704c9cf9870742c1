namespace Hokusai.Bus.Cli.Commands;

/// <summary>HTTP for the probing commands: no redirects followed (a 3xx is an answer), one overall timeout.</summary>
internal static class Http
{
    public static HttpClient Client(TimeSpan timeout) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = timeout }) { Timeout = timeout };

    /// <summary>The response, or a one-line reason when there is none (refused, unreachable, timed out).</summary>
    public static async Task<(HttpResponseMessage? Response, string? Error)> SendAsync(
        HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return (await http.SendAsync(request, cancellationToken), null);
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.InnerException is { } inner && !ex.Message.Contains(inner.Message, StringComparison.Ordinal)
                ? $"{ex.Message} ({inner.Message})"
                : ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {Terminal.Seconds(http.Timeout)} s (timed out)");
        }
    }
}
