using System.Buffers;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// A fast webhook receiver on TestSupport's <see cref="LoopbackServer"/> (Kestrel on 127.0.0.1): the whole body read
/// into a pooled buffer, the signature verified over the raw bytes with the contracts' verifier (as the README tells
/// receivers to), the arrival recorded against the current <see cref="Phase"/> by the idempotency-key header, then
/// 200 with a small JSON answer (401 for a bad signature). Unlike the test receiver it keeps no bodies, so 100k
/// deliveries of 256 KB cost no memory here. The same receiver serves the host, the raw HTTP baseline and the
/// sequential peer. The server only starts it: each request goes straight to <see cref="HandleAsync"/> (<c>app.Run</c>,
/// no routing), so what is measured is unchanged.
/// </summary>
internal sealed class BenchReceiver : IAsyncDisposable
{
    private static readonly byte[] Ok = """{"status":"success"}"""u8.ToArray();
    private readonly WebhookVerifier _verifier;
    private LoopbackServer _server = null!;
    private Phase? _phase;
    private long _stray;

    private BenchReceiver(string secret) => _verifier = new WebhookVerifier(secret);

    public Uri Url { get; private set; } = null!;

    /// <summary>How long to wait before answering: a real endpoint's latency (the 'remote' scenario). Zero by default.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Requests whose key belongs to no current phase (e.g. a warm-up message redelivered late).</summary>
    public long Stray => Interlocked.Read(ref _stray);

    public Phase? Phase
    {
        get => Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, value);
    }

    public static async Task<BenchReceiver> StartAsync(string secret)
    {
        var receiver = new BenchReceiver(secret);
        receiver._server = await LoopbackServer.StartAsync(
            app => app.Run(receiver.HandleAsync),
            builder => builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
            }));
        receiver.Url = receiver._server.At("api/models/ready");
        return receiver;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = 405;
            return;
        }

        var length = (int)(request.ContentLength ?? -1);
        byte[] buffer;
        int read;
        if (length >= 0)
        {
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
            read = 0;
            while (read < length)
            {
                var n = await request.Body.ReadAsync(buffer.AsMemory(read, length - read), context.RequestAborted);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        else
        {
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy, context.RequestAborted);
            read = (int)copy.Length;
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, read));
            copy.GetBuffer().AsSpan(0, read).CopyTo(buffer);
        }

        bool valid;
        var key = request.Headers[WebhookHeaders.IdempotencyKey].ToString();
        try
        {
            // A DeltaOne event is signed over "<timestamp>.<nonce>." + body; its key is derived, so its run_id names it.
            var body = buffer.AsSpan(0, read);
            var signature = request.Headers[WebhookHeaders.Signature].ToString();
            var timestamp = request.Headers[WebhookHeaders.Timestamp].ToString();
            valid = timestamp.Length == 0
                ? _verifier.Verify(body, signature)
                : _verifier.Verify(body, signature, timestamp, request.Headers[WebhookHeaders.Nonce].ToString());
            if (timestamp.Length > 0 && body.IndexOf(RunIdMark) is var at and >= 0 && body.Length >= at + RunIdMark.Length + 15)
            {
                key = System.Text.Encoding.ASCII.GetString(body.Slice(at + RunIdMark.Length, 15));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var phase = Phase;
        if (phase is null || !Phase.TryParse(key, out var id, out var seq) || id != phase.Id || !phase.Arrive(seq, valid))
        {
            Interlocked.Increment(ref _stray);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }

        context.Response.StatusCode = valid ? 200 : 401;
        if (valid)
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Ok.Length;
            await context.Response.Body.WriteAsync(Ok, context.RequestAborted);
        }
    }

    /// <summary>Where a benchmark DeltaOne event names its phase and sequence number (<see cref="Phase.Key"/>).</summary>
    private static ReadOnlySpan<byte> RunIdMark => "\"run_id\":\""u8;
}
