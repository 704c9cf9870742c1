using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// A load client that is never the limit: HTTP/1.1 keep-alive over <c>concurrency</c> plain sockets, each sending
/// requests built (and signed) before the clock starts and reading each answer's status line, headers and
/// <c>Content-Length</c> body. No HttpClient, no per-request allocation worth measuring: its CPU per request is a small
/// fraction of any server's, and it prints that fraction.
/// </summary>
internal sealed class RawHttpLoad : IAsyncDisposable
{
    private readonly Socket[] _sockets;
    private readonly byte[][] _buffers;

    private RawHttpLoad(Socket[] sockets)
    {
        _sockets = sockets;
        _buffers = [.. sockets.Select(_ => new byte[16 * 1024])];
    }

    public static async Task<RawHttpLoad> ConnectAsync(Uri server, int concurrency)
    {
        var sockets = new Socket[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await sockets[i].ConnectAsync(new IPEndPoint(IPAddress.Parse(server.Host), server.Port));
        }

        return new RawHttpLoad(sockets);
    }

    /// <summary>One POST's bytes: request line, the given headers, <c>Content-Length</c>, the body.</summary>
    public static byte[] Post(Uri url, byte[] body, params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder()
            .Append("POST ").Append(url.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(url.Authority).Append("\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    /// <summary>Sends every request once, <c>concurrency</c> at a time; the milliseconds from send to answer of each, and every status not <paramref name="expected"/> thrown.</summary>
    public async Task<(double PerSecond, List<double> Milliseconds)> RunAsync(IReadOnlyList<byte[]> requests, int expected)
    {
        var answered = new double[requests.Count];
        var next = -1;
        var started = Stopwatch.GetTimestamp();

        async Task Worker(int connection)
        {
            var socket = _sockets[connection];
            var buffer = _buffers[connection];
            int seq;
            while ((seq = Interlocked.Increment(ref next)) < requests.Count)
            {
                var sent = Stopwatch.GetTimestamp();
                await socket.SendAsync(requests[seq], SocketFlags.None);
                var status = await ReadAnswerAsync(socket, buffer);
                answered[seq] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if (status != expected)
                {
                    throw new InvalidOperationException($"request {seq} answered {status}, expected {expected}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, _sockets.Length).Select(i => Task.Run(() => Worker(i))));
        return (requests.Count / Stopwatch.GetElapsedTime(started).TotalSeconds, [.. answered]);
    }

    /// <summary>Reads one answer (headers, then exactly <c>Content-Length</c> bytes, or chunks to the last); its status code.</summary>
    private static async Task<int> ReadAnswerAsync(Socket socket, byte[] buffer)
    {
        var filled = 0;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            if (read == 0)
            {
                throw new InvalidOperationException("the server closed the connection");
            }

            filled += read;
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                continue;
            }

            var head = buffer.AsSpan(0, end);
            Utf8Parser.TryParse(head[9..12], out int status, out _);
            var length = 0;
            var at = head.IndexOf("\r\nContent-Length: "u8);
            if (at < 0)
            {
                at = head.IndexOf("\r\ncontent-length: "u8);
            }

            if (at >= 0)
            {
                Utf8Parser.TryParse(head[(at + 18)..], out length, out _);
            }

            if (at < 0 && head.IndexOf("chunked"u8) >= 0)
            {
                // A chunked answer (a JSON answer written without a length): small, so it ends with the last chunk.
                while (!buffer.AsSpan(end, filled - end).EndsWith("0\r\n\r\n"u8))
                {
                    filled += await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                }

                return status;
            }

            var total = end + 4 + length;
            while (filled < total)
            {
                filled += await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            }

            return status;
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
