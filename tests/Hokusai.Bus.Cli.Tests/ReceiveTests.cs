using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Tests;

/// <summary><c>receive</c>: the local receiver built with Hokusai.Bus.Receiver, driven over HTTP.</summary>
public sealed class ReceiveTests
{
    private const string Secret = "receive-test-secret";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Receive_verifies_deduplicates_prints_each_delivery_and_exits_after_max()
    {
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", Secret, "--max", "2"]);
        var url = await ListeningUrlAsync(cli);
        using var http = new HttpClient();
        var body = SeedBody();

        using var bad = await PostAsync(http, url, body, "0000000000000000000000000000000000000000000000000000000000000000");
        using var first = await PostAsync(http, url, body, new WebhookSigner(Secret).Sign(body));
        using var second = await PostAsync(http, url, body, new WebhookSigner(Secret).Sign(body));
        var exitCode = await cli.WaitForExitAsync(Wait);

        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("success", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("already_processed", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(exitCode == 0, cli.Output + cli.Error);

        var lines = cli.Output.Split('\n').Select(l => l.Trim()).ToList();
        var key = "key=550e8400-e29b-41d4-a716-446655440000";
        var refused = Assert.Single(lines, l => l.Contains(" refused ", StringComparison.Ordinal));
        Assert.Contains("valid=false", refused, StringComparison.Ordinal);
        Assert.Contains("status=401", refused, StringComparison.Ordinal);
        var delivered = Assert.Single(lines, l => l.Contains(" delivered ", StringComparison.Ordinal));
        Assert.Contains(key, delivered, StringComparison.Ordinal);
        Assert.Contains("model=model_abc123", delivered, StringComparison.Ordinal);
        Assert.Contains("valid=true duplicate=false status=200", delivered, StringComparison.Ordinal);
        var duplicate = Assert.Single(lines, l => l.Contains(" duplicate ", StringComparison.Ordinal));
        Assert.Contains(key, duplicate, StringComparison.Ordinal);
        Assert.Contains("valid=true duplicate=true status=200", duplicate, StringComparison.Ordinal);
        Assert.Contains("Stopped after 3 request(s): 1 delivered, 1 duplicate(s), 1 refused", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Receive_takes_the_MLflow_event_and_the_DeltaOne_events_exactly_as_the_host_sends_them()
    {
        // WEBHOOK_PAYLOAD_FORMAT=mlflow sends the pipeline's event byte for byte with its headers (the known answers);
        // a DeltaOne event goes out byte for byte, signed at each attempt with a fresh timestamp and nonce.
        var mlflow = Hokusai.Bus.TestSupport.TestVectors.Mlflow[0];
        var deltaOne = Hokusai.Bus.TestSupport.TestVectors.DeltaOne;
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", mlflow.Secret, "--max", (1 + deltaOne.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var url = await ListeningUrlAsync(cli);
        using var http = new HttpClient();

        using var registration = await SendAsync(http, url, mlflow.Body, mlflow.Headers);
        Assert.True(registration.StatusCode == HttpStatusCode.OK, await registration.Content.ReadAsStringAsync() + cli.Output);
        foreach (var vector in deltaOne)
        {
            var (timestamp, nonce) = DeltaOneSigner.NewAttempt(DateTimeOffset.UtcNow);
            using var response = await SendAsync(http, url, vector.Body, new Dictionary<string, string>
            {
                ["User-Agent"] = DeltaOneSigner.UserAgent,
                [WebhookHeaders.Signature] = new DeltaOneSigner(mlflow.Secret).Sign(vector.Body, timestamp, nonce),
                [WebhookHeaders.Timestamp] = timestamp,
                [WebhookHeaders.Nonce] = nonce,
            });
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{vector.Name}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.True(await cli.WaitForExitAsync(Wait) == 0, cli.Output + cli.Error);
        Assert.Contains(
            $"#1 delivered key={IdempotencyKey.Derive("msg-ai", "msg-ai", "abc123", "3")} model=msg-ai valid=true duplicate=false status=200 processed (MLflow event)",
            cli.Output, StringComparison.Ordinal);
        foreach (var vector in deltaOne)
        {
            var (key, modelId) = DeltaOneEventKey.Identify(vector.EventType, vector.Body);
            Assert.Contains(
                $"delivered key={key} model={modelId} valid=true duplicate=false status=200 processed ({vector.EventType} event)",
                cli.Output, StringComparison.Ordinal);
        }

        Assert.Contains($"Stopped after {1 + deltaOne.Count} request(s): {1 + deltaOne.Count} delivered, 0 duplicate(s), 0 refused", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Receive_fails_the_first_requests_and_answers_the_status_asked_for()
    {
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", Secret, "--max", "1", "--fail-first", "1", "--status", "503"]);
        var url = await ListeningUrlAsync(cli);
        using var http = new HttpClient();
        var body = SeedBody();
        var signature = new WebhookSigner(Secret).Sign(body);

        using var failed = await PostAsync(http, url, body, signature);
        using var processed = await PostAsync(http, url, body, signature);
        var exitCode = await cli.WaitForExitAsync(Wait);

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, processed.StatusCode);
        Assert.True(exitCode == 0, cli.Output + cli.Error);
        Assert.Contains("#1 failed", cli.Output, StringComparison.Ordinal);
        Assert.Contains("#2 delivered", cli.Output, StringComparison.Ordinal);
        Assert.Contains("status=503", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Receive_while_down_answers_503_and_stops_cleanly_on_sigterm()
    {
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", Secret, "--down-for", "120"]);
        var url = await ListeningUrlAsync(cli);
        using var http = new HttpClient();
        var body = SeedBody();

        using var health = await http.PostAsync(new Uri(url, "/health"), new StringContent("{\"test\": true}", Encoding.UTF8, "application/json"));
        using var down = await PostAsync(http, url, body, new WebhookSigner(Secret).Sign(body));
        await cli.WaitForLineAsync(l => l.Contains("#1 down", StringComparison.Ordinal), Wait, "#1 down");
        cli.Terminate();
        var exitCode = await cli.WaitForExitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.True(exitCode == 0, cli.Output + cli.Error);
        Assert.Contains("Stopped after 1 request(s): 0 delivered, 0 duplicate(s), 0 refused, 1 failed on purpose.", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_output_is_the_cli_readmes_sample_line_for_line()
    {
        var readme = File.ReadAllLines(Path.Combine(Hokusai.Bus.TestSupport.BuildOutput.RepositoryRoot, "src", "Hokusai.Bus.Cli", "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("$ hokusai-bus receive --port 8080", StringComparison.Ordinal));
        var sample = readme[(start + 1)..Array.FindIndex(readme, start, l => l == "```")];
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", "your_webhook_secret"]);
        var url = await ListeningUrlAsync(cli);
        using var http = new HttpClient();
        var body = SeedBody();
        var signature = new WebhookSigner("your_webhook_secret").Sign(body);

        (await PostAsync(http, url, body, signature)).Dispose();
        (await PostAsync(http, url, body, signature)).Dispose();
        (await PostAsync(http, url, body, new string('0', 64))).Dispose();
        await cli.WaitForLineAsync(l => l.StartsWith("#3 ", StringComparison.Ordinal), Wait, "#3");
        cli.Terminate(); // Ctrl+C's SIGINT, as SIGTERM
        Assert.Equal(0, await cli.WaitForExitAsync(Wait));

        var expected = sample.Select(l => l.Replace("127.0.0.1:8080", url.Authority, StringComparison.Ordinal).Replace("^C", "", StringComparison.Ordinal));
        Assert.Equal(expected, cli.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public async Task With_max_it_says_it_will_exit_once_that_many_have_arrived()
    {
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", Secret, "--max", "2"]);

        var line = await cli.WaitForLineAsync(l => l.Contains("verified deliveries", StringComparison.Ordinal), Wait, "the --max line");

        Assert.Equal("Will exit once 2 verified deliveries have arrived (Ctrl+C to stop sooner).", line.Trim());
    }

    private static async Task<Uri> ListeningUrlAsync(CliProcess cli)
    {
        var line = await cli.WaitForLineAsync(l => l.StartsWith("Listening on http://127.0.0.1:", StringComparison.Ordinal), Wait, "Listening on");
        return new Uri(line.Split(' ')[2]);
    }

    private static byte[] SeedBody() =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json"));

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, Uri url, byte[] body, IReadOnlyDictionary<string, string> headers)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        foreach (var (name, value) in headers.Where(h => !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, Uri url, byte[] body, string signature)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signature);
        return http.SendAsync(request);
    }
}
