using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// <c>POST /ingest</c> under faults, with a client that behaves as the pipeline's publisher does (it retries until it
/// gets a 2xx): RabbitMQ stopped mid-stream, the host SIGKILLed under load. Every registration reaches the receiver,
/// none in <c>_error</c>, duplicates only with the same key.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class IngestFaultTests(FaultReport report)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [RabbitFact]
    public async Task RabbitMQ_stopped_during_ingest_answers_503_with_Retry_After_then_everything_is_delivered()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(IngestTests.IngestOn());
        var client = new PipelineClient(host.BaseUrl);
        var keys = Enumerable.Range(0, 40).Select(i => $"outage-{i}-{Guid.NewGuid():N}").ToList();

        await client.SendAllAsync(keys.Take(10), concurrency: 4);
        await RabbitMqBroker.RabbitMqCtlAsync("stop_app");
        HttpResponseMessage refused;
        try
        {
            // While the broker is down: a clear 503 that tells the producer when to come back; nothing accepted.
            refused = await client.Http.SendAsync(IngestTests.Post(Encoding.UTF8.GetBytes(Payloads.Registration("during-outage"))));
            var sending = client.SendAllAsync(keys.Skip(10), concurrency: 4); // retries through the outage, as the pipeline does
            // The broker stays down until every sender has had a 503 (each publish waits 10 s for a confirm first).
            await client.WaitForRefusalsAsync(4, Wait);
            await RabbitMqBroker.RabbitMqCtlAsync("start_app");
            await sending.WaitAsync(Wait);
        }
        finally
        {
            await RabbitMqBroker.RabbitMqCtlAsync("start_app"); // idempotent: never leave the shared broker stopped
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("RabbitMQ did not confirm the publish", await refused.Content.ReadAsStringAsync());
        await scenario.Receiver.WaitUntilAsync(r => keys.All(r.AcceptedCounts.ContainsKey), Wait, "every key");
        await report.RecordAsync("ingest: RabbitMQ stopped mid-stream (503, producer retries)", scenario, keys);
        AssertDuplicatesKeepTheirBytes(scenario);
    }

    [RabbitFact]
    public async Task Ten_thousand_ingests_at_concurrency_32_with_the_host_SIGKILLed_mid_stream_lose_nothing()
    {
        await using var scenario = await Scenario.StartAsync();
        var first = await scenario.StartHostAsync(IngestTests.IngestOn());
        var client = new PipelineClient(first.BaseUrl);
        var keys = Enumerable.Range(0, 10_000).Select(i => $"load-{i}-{Guid.NewGuid():N}").ToList();

        var sending = client.SendAllAsync(keys, concurrency: 32);
        await client.WaitForAcceptedAsync(3_000, Wait);
        await first.KillAsync(); // mid-stream: some publishes confirmed but never answered, some answered, some half-read
        var second = await scenario.StartHostAsync(IngestTests.IngestOn());
        client.BaseUrl = second.BaseUrl;
        await sending.WaitAsync(Wait);

        await scenario.Receiver.WaitUntilAsync(r => r.AcceptedKeys.Count >= keys.Count, Wait, "10,000 keys");
        var row = await report.RecordAsync("ingest: 10,000 at concurrency 32, host SIGKILLed mid-stream", scenario, keys);
        Assert.Equal(keys.Count, row.DeliveredUnique);
        AssertDuplicatesKeepTheirBytes(scenario);
    }

    /// <summary>A duplicate is the same registration again: same key, same bytes.</summary>
    private static void AssertDuplicatesKeepTheirBytes(Scenario scenario)
    {
        foreach (var group in scenario.Receiver.Requests.Where(r => r.StatusReturned == 200).GroupBy(r => r.IdempotencyKey))
        {
            Assert.Single(group.Select(r => Convert.ToHexString(r.Body)).Distinct());
        }
    }

    /// <summary>POSTs registrations to /ingest and, like the pipeline's publisher, retries each until it is accepted.</summary>
    private sealed class PipelineClient
    {
        private readonly ConcurrentDictionary<string, bool> _accepted = new();
        private readonly Recorded _recorded;
        private int _refusals;
        private volatile Uri _baseUrl;

        public PipelineClient(Uri baseUrl)
        {
            _baseUrl = baseUrl;
            Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
            {
                BaseAddress = baseUrl,
                Timeout = TimeSpan.FromSeconds(30),
            };
            _recorded = new Recorded(() => $"{_accepted.Count} ingests accepted, {_refusals} refusals");
        }

        public HttpClient Http { get; }

        public Uri BaseUrl
        {
            get => _baseUrl;
            set => _baseUrl = value;
        }

        /// <summary>Waits until <paramref name="count"/> sends were refused (a 5xx or no answer), retries included.</summary>
        public Task WaitForRefusalsAsync(int count, TimeSpan timeout) =>
            _recorded.WaitAsync(() => _refusals >= count, timeout, $"{count} refusals");

        public async Task SendAllAsync(IEnumerable<string> keys, int concurrency)
        {
            var queue = new ConcurrentQueue<string>(keys);
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (queue.TryDequeue(out var key))
                {
                    await SendAsync(key);
                }
            }));
        }

        public Task WaitForAcceptedAsync(int count, TimeSpan timeout) =>
            _recorded.WaitAsync(() => _accepted.Count >= count, timeout, $"{count} ingests accepted");

        private async Task SendAsync(string key)
        {
            var body = Encoding.UTF8.GetBytes(Payloads.Registration(key));
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var request = IngestTests.Post(body);
                    request.RequestUri = new Uri(_baseUrl, "ingest");
                    using var response = await Http.SendAsync(request);
                    if (response.IsSuccessStatusCode)
                    {
                        _recorded.Record(() => _accepted[key] = true);
                        return;
                    }

                    Assert.True((int)response.StatusCode >= 500, $"{key}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException)
                {
                    // The host is gone (SIGKILL) or not yet back: retry, as the pipeline does.
                }
                catch (TaskCanceledException)
                {
                }

                _recorded.Record(() => _refusals++);
                Assert.True(attempt < 600, $"{key} not accepted after {attempt} attempts");
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }
}
