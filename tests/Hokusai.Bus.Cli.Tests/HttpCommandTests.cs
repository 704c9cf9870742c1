using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Cli.Tests;

/// <summary><c>send-test</c> and <c>health</c> against a real Kestrel receiver on 127.0.0.1 (TestSupport).</summary>
public sealed class HttpCommandTests
{
    private const string Secret = "your_webhook_secret";

    [Fact]
    public async Task Send_test_posts_the_guides_signed_test_payload_and_prints_status_and_response()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);

        var result = await CliProcess.RunAsync("send-test", "--url", receiver.Url.ToString(), "--secret", Secret);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["Status: 200", "Response: {\"status\":\"success\"}"], result.Lines);
        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid, "the receiver could not verify the signature");
        Assert.Equal("application/json", request.ContentType);

        // The guide's payload, as Python's json.dumps writes it (", " and ": " separators), key also in the header.
        var body = Encoding.UTF8.GetString(request.Body);
        Assert.StartsWith("{\"model_id\": \"test_model_001\", \"idempotency_key\": \"", body, StringComparison.Ordinal);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(request.IdempotencyKey, json["idempotency_key"]!.GetValue<string>());
        Assert.Equal(4, Guid.Parse(request.IdempotencyKey!).Version);
        Assert.Equal("1", json["registered_version"]!.GetValue<string>());
        Assert.EndsWith("Z", json["timestamp"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(DateTimeOffset.Parse(json["timestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal("TEST_TOKEN", json["token_symbol"]!.GetValue<string>());
        Assert.Equal(0.95, json["baseline_metrics"]!["accuracy"]!.GetValue<double>());
        Assert.Equal("test-model", json["metadata"]!["model_name"]!.GetValue<string>());
        Assert.True(json["metadata"]!["test"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Send_test_with_the_wrong_secret_is_refused_and_exits_1()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);

        var result = await CliProcess.RunAsync("send-test", "--url", receiver.Url.ToString(), "--secret", "not-the-secret");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("Status: 401", result.Lines[0]);
        Assert.False(Assert.Single(receiver.Requests).SignatureValid);
    }

    [Fact]
    public async Task Health_is_healthy_on_2xx_and_posts_the_guides_probe()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        receiver.Respond = _ => ValueTask.FromResult(WebhookReceiver.Response.Ok);

        var result = await CliProcess.RunAsync("health", "--url", receiver.Url.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Status: 200", result.Output, StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.StartsWith("Latency: ", StringComparison.Ordinal) && l.EndsWith(" ms", StringComparison.Ordinal));
        Assert.Contains("Healthy", result.Output, StringComparison.Ordinal);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("{\"test\": true}", Encoding.UTF8.GetString(request.Body));
        Assert.Equal("application/json", request.ContentType);
    }

    [Fact]
    public async Task Health_is_unhealthy_on_500()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        receiver.Respond = _ => ValueTask.FromResult(new WebhookReceiver.Response(500));

        var result = await CliProcess.RunAsync("health", "--url", receiver.Url.ToString());

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Status: 500", result.Output, StringComparison.Ordinal);
        Assert.Contains("Unhealthy", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_is_unhealthy_when_nothing_listens()
    {
        var closedPort = LoopbackPort.Free();

        var result = await CliProcess.RunAsync("health", "--url", $"http://127.0.0.1:{closedPort}/health", "--timeout", "5");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Unhealthy", result.Output, StringComparison.Ordinal);
        Assert.Contains("Latency:", result.Output, StringComparison.Ordinal);
    }
}
