using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>
/// <c>receive</c> as the site in the README's "Putting the host between the pipeline and the site": the host with
/// <c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c> and all four event types delivers the pipeline's own posts to <c>/ingest</c> (an
/// MLflow event and the three DeltaOne events) to it, on the local RabbitMQ in a throwaway virtual host.
/// </summary>
public sealed class ReceiveFromHostTests
{
    private const string IngestSecret = "ingest-secret-receive-test";
    private const string SiteSecret = "site-secret-receive-test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task Receive_accepts_and_prints_every_event_the_host_delivers_in_the_pipeline_and_site_setup()
    {
        var mlflow = TestVectors.Mlflow[0];
        var deltaOne = TestVectors.DeltaOne;
        var expected = 1 + deltaOne.Count;
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-cli-receive");
        await using var cli = CliProcess.Start(["receive", "--port", "0", "--secret", SiteSecret, "--max", expected.ToString(CultureInfo.InvariantCulture)]);
        var listening = await cli.WaitForLineAsync(l => l.StartsWith("Listening on http://127.0.0.1:", StringComparison.Ordinal), Wait, "Listening on");
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["RABBITMQ_URL"] = rabbit.AmqpUrl.ToString(),
            ["INGEST_SECRET"] = IngestSecret,
            ["WEBHOOK_URL"] = listening.Split(' ')[2],
            ["WEBHOOK_SECRET"] = SiteSecret,
            ["WEBHOOK_PAYLOAD_FORMAT"] = "mlflow",
            ["WEBHOOK_EVENT_TYPES"] = "model_registered,deltaone.achieved,deltaone.minted,deltaone.reward_ingest_failed",
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        // The pipeline's own requests: the MLflow event signed over the body, each DeltaOne event over timestamp.nonce.body.
        using (var posted = await http.SendAsync(Post(mlflow.Body, mlflow.Headers, new WebhookSigner(IngestSecret, SignatureFormat.Sha256Prefixed).Sign(mlflow.Body))))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        foreach (var vector in deltaOne)
        {
            var (timestamp, nonce) = DeltaOneSigner.NewAttempt(DateTimeOffset.UtcNow);
            using var posted = await http.SendAsync(Post(vector.Body, new Dictionary<string, string>
            {
                ["User-Agent"] = DeltaOneSigner.UserAgent,
                [WebhookHeaders.Timestamp] = timestamp,
                [WebhookHeaders.Nonce] = nonce,
            }, new DeltaOneSigner(IngestSecret).Sign(vector.Body, timestamp, nonce)));
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        // --max: receive exits once every event has been verified and accepted.
        Assert.True(await cli.WaitForExitAsync(Wait) == 0, cli.Output + cli.Error + host.Output);
        // The MLflow event's body carries no key: the receiver de-duplicates it by the one derived from its signed fields.
        var derived = IdempotencyKey.Derive("msg-ai", "msg-ai", "abc123", "3");
        Assert.Contains($"delivered key={derived} model=msg-ai valid=true duplicate=false status=200 processed (MLflow event)",
            cli.Output, StringComparison.Ordinal);
        foreach (var vector in deltaOne)
        {
            var (key, modelId) = DeltaOneEventKey.Identify(vector.EventType, vector.Body);
            Assert.Contains($"delivered key={key} model={modelId} valid=true duplicate=false status=200 processed ({vector.EventType} event)",
                cli.Output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(" refused ", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"Stopped after {expected} request(s): {expected} delivered, 0 duplicate(s), 0 refused", cli.Output, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Post(byte[] body, IReadOnlyDictionary<string, string> headers, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "ingest") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers.Where(h => h.Key is not ("Content-Type" or WebhookHeaders.Signature)))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signature);
        return request;
    }
}
