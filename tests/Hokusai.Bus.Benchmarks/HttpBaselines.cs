using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The HTTP limit: the body the host would send, signed and POSTed from this process by <c>concurrency</c> workers
/// over one <see cref="HttpClient"/> configured as the host's (SocketsHttpHandler, MaxConnectionsPerServer =
/// concurrency), with the host's headers. No bus.
/// </summary>
internal static class RawHttpBaseline
{
    public static async Task<(double PerSecond, Percentiles Latency)> RunAsync(
        BenchReceiver receiver, Payload payload, int concurrency, int count, string secret)
    {
        using var client = HostLikeClient(concurrency);
        var signer = new WebhookSigner(secret);
        var body = payload.DeliveredBody;

        async Task<Phase> Run(int n)
        {
            var phase = new Phase(n);
            receiver.Phase = phase;
            var next = -1;
            var failures = 0;

            async Task Worker()
            {
                int seq;
                while ((seq = Interlocked.Increment(ref next)) < n)
                {
                    using var request = Post(receiver.Url, body, signer.Sign(body), phase.KeyOf(seq));
                    phase.MarkSent(seq);
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
            return failures == 0 && phase.Distinct == n
                ? phase
                : throw new InvalidOperationException($"raw HTTP: {failures} failed requests, {phase.Distinct}/{n} arrived.");
        }

        // Warm-up, at least 2 s: tiered JIT and dynamic PGO settle, connections open.
        var warm = Stopwatch.StartNew();
        do
        {
            await Run(Math.Min(2_000, count));
        }
        while (warm.Elapsed < TimeSpan.FromSeconds(2));

        var measured = await Run(count);
        receiver.Phase = null;
        return (measured.Rate(), measured.Latency());
    }

    /// <summary>The handler the host builds (HokusaiBusRegistrationExtensions) for its webhook client.</summary>
    public static HttpClient HostLikeClient(int concurrency) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = concurrency,
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public static HttpRequestMessage Post(Uri url, byte[] body, string signature, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signature);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, key);
        }

        request.Headers.TryAddWithoutValidation("User-Agent", "Hokusai.Bus.Benchmarks/raw");
        return request;
    }
}

/// <summary>
/// The peer users would have otherwise, the original pipeline's model: one registration at a time, built as an object,
/// serialized, signed and POSTed with a blocking call that waits for the answer before the next one. It keeps its
/// connection alive (a <c>requests.Session</c>), the stronger form of that peer. Runs for a message count or a time
/// budget, whichever ends first.
/// </summary>
internal static class SequentialPeer
{
    public static (double PerSecond, Percentiles Latency, int Sent) Run(
        BenchReceiver receiver, Payload payload, string secret, int maxCount, TimeSpan budget)
    {
        using var client = RawHttpBaseline.HostLikeClient(1);
        var signer = new WebhookSigner(secret);

        Phase Once(int n, TimeSpan limit, out int sent, out double seconds)
        {
            var phase = new Phase(n);
            receiver.Phase = phase;
            var started = Stopwatch.GetTimestamp();
            sent = 0;
            while (sent < n && Stopwatch.GetElapsedTime(started) < limit)
            {
                var registration = payload.Registration with
                {
                    IdempotencyKey = phase.KeyOf(sent),
                    Timestamp = DateTimeOffset.UtcNow,
                };
                var body = ModelRegisteredJson.Serialize(registration);
                using var request = RawHttpBaseline.Post(receiver.Url, body, signer.Sign(body), registration.IdempotencyKey);
                phase.MarkSent(sent);
                using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"sequential peer: HTTP {(int)response.StatusCode}");
                }

                sent++;
            }

            seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return phase;
        }

        Once(Math.Min(maxCount, 300), budget / 3, out _, out _); // warm-up
        var measured = Once(maxCount, budget, out var count, out var elapsed);
        receiver.Phase = null;
        return (count / elapsed, measured.Latency(), count);
    }
}
