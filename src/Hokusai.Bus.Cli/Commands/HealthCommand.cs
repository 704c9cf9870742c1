using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace Hokusai.Bus.Cli.Commands;

/// <summary><c>health</c>: the guide's connectivity check, <c>curl -X POST URL -H "Content-Type: application/json" -d '{"test": true}'</c>.</summary>
internal static class HealthCommand
{
    public static Command Create()
    {
        var url = CommonOptions.Url("--url", "The endpoint to check, e.g. https://your-endpoint.com/health.");
        var timeout = CommonOptions.Seconds("--timeout", "Unhealthy when there is no answer within this many seconds.", 10, minimum: 0.1);

        var command = new Command("health", "POST {\"test\": true} to a URL as the guide's curl does: healthy (exit 0) on a 2xx answer, else unhealthy (exit 1).")
        {
            url, timeout,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var target = parseResult.GetRequiredValue(url);
            using var http = Http.Client(parseResult.GetSeconds(timeout));
            using var request = new HttpRequestMessage(HttpMethod.Post, target)
            {
                Content = new ByteArrayContent("{\"test\": true}"u8.ToArray()),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

            var started = Stopwatch.GetTimestamp();
            var (response, error) = await Http.SendAsync(http, request, cancellationToken);
            var latency = Terminal.Ms(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response is null)
            {
                Console.WriteLine($"Status: none ({error})");
                Console.WriteLine($"Latency: {latency} ms");
                Console.WriteLine($"Unhealthy: {WebhookUrl.Redact(target)} did not answer.");
                return ExitCodes.Failure;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                Console.WriteLine($"Status: {status} {response.ReasonPhrase}");
                Console.WriteLine($"Latency: {latency} ms");
                if (response.IsSuccessStatusCode)
                {
                    Console.WriteLine($"Healthy: {WebhookUrl.Redact(target)} answered {status}.");
                    return ExitCodes.Success;
                }

                Console.WriteLine($"Unhealthy: {WebhookUrl.Redact(target)} answered {status}, not 2xx.");
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
