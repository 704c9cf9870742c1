using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// DeltaOne events through <c>/ingest</c> under faults, on real RabbitMQ, to a site that verifies as the pipeline's
/// <c>verify_signature</c> does and refuses stale timestamps and reused nonces: the site down for 2 minutes (where the
/// pipeline's own sender gives up after about 5 s), and the host SIGKILLed mid-stream.
/// </summary>
public sealed class DeltaOneOutageTests
{
    [RabbitFact]
    public async Task The_site_down_for_2_minutes_with_300_events_in_flight_gets_each_once_after_every_attempt_freshly_signed()
    {
        await using var scenario = await Scenario.StartAsync();
        var down = 1;
        scenario.Receiver.Respond = info => ValueTask.FromResult(
            Volatile.Read(ref down) == 1 ? new WebhookReceiver.Response(503)
            : info.SignatureValid ? WebhookReceiver.Response.Ok : new WebhookReceiver.Response(401));
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["INGEST_SECRET"] = "pipe-secret",
            ["WEBHOOK_EVENT_TYPES"] = DeltaOneIngestTests.AllTypes,
            ["WEBHOOK_RETRY_DELAY"] = "1",
            ["WEBHOOK_MAX_HOLD"] = "20", // longer waits move to RabbitMQ's delay queues
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "10",
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        string[] types = ["deltaone.achieved", "deltaone.minted", "deltaone.reward_ingest_failed"];
        var keys = new ConcurrentBag<string>();

        await Parallel.ForAsync(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var response = await http.SendAsync(DeltaOneIngestTests.Post(DeltaOneIngestTests.Event(types[i % 3], $"outage-{i}")));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            keys.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["idempotency_key"]!.GetValue<string>());
        });

        await Task.Delay(TimeSpan.FromMinutes(2)); // the outage itself: the length of time the site is down
        Volatile.Write(ref down, 0);
        await scenario.Receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= 300, TimeSpan.FromMinutes(3), "all 300 delivered after the outage");

        Assert.Equal(keys.Order(), scenario.Receiver.AcceptedKeys.Order());
        Assert.All(scenario.Receiver.AcceptedCounts.Values, count => Assert.Equal(1, count)); // once each
        var requests = scenario.Receiver.Requests;
        Assert.All(requests, r => Assert.True(r.SignatureValid)); // every attempt, the 503s included: timely and its own nonce
        Assert.Equal(requests.Count, requests.Select(r => r.Headers["x-hokusai-nonce"]).Distinct().Count());
        Assert.True(requests.Count > 300, "attempts were made during the outage");
        Assert.Empty(await scenario.ErrorsAsync());
    }
}

/// <summary>The host SIGKILLed while DeltaOne events stream in: nothing lost, a duplicate only with the same key and bytes.</summary>
[Collection(FaultCollection.Name)]
public sealed class DeltaOneFaultTests(FaultReport report)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [RabbitFact]
    public async Task The_host_SIGKILLed_mid_stream_loses_nothing_and_duplicates_only_with_the_same_key()
    {
        await using var scenario = await Scenario.StartAsync();
        var settings = new Dictionary<string, string> { ["INGEST_SECRET"] = "pipe-secret", ["WEBHOOK_EVENT_TYPES"] = DeltaOneIngestTests.AllTypes };
        var first = await scenario.StartHostAsync(settings);
        var baseUrl = first.BaseUrl;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32 }) { Timeout = TimeSpan.FromSeconds(30) };
        var keys = new ConcurrentDictionary<int, string>();
        var sending = Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var body = DeltaOneIngestTests.Event(i % 2 == 0 ? "deltaone.achieved" : "deltaone.minted", $"kill-{i}");
            while (true) // as the pipeline would, if it retried until accepted: a new timestamp and nonce each time
            {
                try
                {
                    using var request = DeltaOneIngestTests.Post(body);
                    request.RequestUri = new Uri(Volatile.Read(ref baseUrl), "ingest");
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        keys[i] = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["idempotency_key"]!.GetValue<string>();
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // The host died under this request: send it again.
                }

                await Task.Delay(100);
            }
        });

        await scenario.Receiver.WaitForAcceptedAsync(300, Wait);
        await first.KillAsync();
        var second = await scenario.StartHostAsync(settings);
        Volatile.Write(ref baseUrl, second.BaseUrl);
        await sending.WaitAsync(Wait);

        var published = keys.Values.ToList();
        await scenario.Receiver.WaitUntilAsync(r => published.All(r.AcceptedCounts.ContainsKey), Wait, "every key");
        await report.RecordAsync("deltaone ingest: 1,000 at concurrency 16, host SIGKILLed mid-stream", scenario, published);
        foreach (var group in scenario.Receiver.Requests.Where(r => r.StatusReturned == 200).GroupBy(r => r.IdempotencyKey))
        {
            Assert.Single(group.Select(r => Convert.ToHexString(r.Body)).Distinct()); // a duplicate is the same event again
        }
    }
}
