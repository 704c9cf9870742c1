using System.Net;
using System.Net.Sockets;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// The host's <c>/ingest</c> and the receiver library's <c>MapHokusaiWebhook</c> read and verify a request with the same
/// reader (<see cref="SignedRequestReader"/>): the same bad input, sent as raw bytes over a socket to both with the same
/// secret and limits, gets the same status line, and a body left unread closes the connection on both.
/// </summary>
public sealed class SameRefusalsTests(SameRefusalsTests.Servers servers) : IClassFixture<SameRefusalsTests.Servers>
{
    private const string Secret = IngestTests.IngestSecret;
    private const int Limit = 4096;

    public static TheoryData<string> BadInputs => [.. Requests.Keys];

    /// <summary>Each bad request, as bytes on the wire (the path is filled in per server).</summary>
    private static readonly Dictionary<string, Func<string, byte[]>> Requests = new()
    {
        ["no signature"] = path => Raw(path, Body(), signature: null),
        ["a wrong signature"] = path => Raw(path, Body(), signature: "sha256=" + new string('0', 64)),
        ["a signature over other bytes"] = path => Raw(path, Body(), signature: Sign(Encoding.UTF8.GetBytes(Payloads.Registration("other")))),
        ["a signature under another secret"] = path => Raw(path, Body(), signature: new WebhookSigner("not-ours", SignatureFormat.Sha256Prefixed).Sign(Body())),
        ["Content-Length over the limit"] = path => Raw(path, new byte[Limit + 1], Sign(new byte[Limit + 1])),
        ["a chunked body over the limit"] = path => Chunked(path, new byte[Limit + 1], Sign(new byte[Limit + 1])),
        ["broken chunking"] = path => Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nX-Hokusai-Signature: {Sign(Body())}\r\n\r\nzz\r\nnot a chunk\r\n"),
        ["a body that stops coming"] = path => Raw(path, Body(), Sign(Body()), sendOnly: 10),
    };

    [RabbitTheory]
    [MemberData(nameof(BadInputs))]
    public async Task Ingest_and_the_receiver_library_answer_the_same_bad_input_the_same_way(string input)
    {
        var fromIngest = await SendAsync(servers.Host.Port, Requests[input]("/ingest"));
        var fromReceiver = await SendAsync(servers.Receiver.BaseUrl.Port, Requests[input]("/hook"));

        Assert.Equal(StatusLine(fromIngest), StatusLine(fromReceiver));
        Assert.Matches("^HTTP/1.1 4(00|01|08|13)$", StatusLine(fromIngest));
        Assert.Equal(ClosesConnection(fromIngest), ClosesConnection(fromReceiver));
        Assert.Equal(0, servers.Handled);
        Assert.Equal(0, servers.Scenario.Receiver.RequestCount); // nothing was published to deliver
    }

    /// <summary>A host with <c>/ingest</c> and a receiver-library app, with the same secret and limits, for every case.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private int _handled;

        internal Scenario Scenario { get; private set; } = null!;

        public HostProcess Host { get; private set; } = null!;

        public LoopbackServer Receiver { get; private set; } = null!;

        /// <summary>Registrations the receiver's handler was called with.</summary>
        public int Handled => Volatile.Read(ref _handled);

        public async Task InitializeAsync()
        {
            Scenario = await Scenario.StartAsync();
            Host = await Scenario.StartHostAsync(IngestTests.IngestOn(new()
            {
                ["INGEST_MAX_BODY_BYTES"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["INGEST_BODY_TIMEOUT"] = "1",
            }));
            Receiver = await LoopbackServer.StartAsync(
                app => app.MapHokusaiWebhook("/hook", (_, _, _) =>
                {
                    Interlocked.Increment(ref _handled);
                    return Task.CompletedTask;
                }),
                builder => builder.Services.AddHokusaiWebhookReceiver(o =>
                {
                    o.Secret = Secret;
                    o.MaxBodyBytes = Limit;
                    o.BodyTimeout = TimeSpan.FromSeconds(1);
                }));
        }

        public async Task DisposeAsync()
        {
            await Receiver.DisposeAsync();
            await Scenario.DisposeAsync();
        }
    }

    private static byte[] Body() => Encoding.UTF8.GetBytes(Payloads.Registration("refused"));

    private static string Sign(byte[] body) => new WebhookSigner(Secret, SignatureFormat.Sha256Prefixed).Sign(body);

    private static byte[] Raw(string path, byte[] body, string? signature, int? sendOnly = null)
    {
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n"
                   + (signature is null ? "" : $"X-Hokusai-Signature: {signature}\r\n") + "\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body.AsSpan(0, sendOnly ?? body.Length)];
    }

    private static byte[] Chunked(string path, byte[] body, string signature)
    {
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                   + $"X-Hokusai-Signature: {signature}\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head + $"{body.Length:x}\r\n"), .. body, .. "\r\n0\r\n\r\n"u8];
    }

    /// <summary>Writes the bytes and reads until the server closes the connection or has answered (its headers and body).</summary>
    private static async Task<string> SendAsync(int port, byte[] request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var stream = socket.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The server answered and closed before taking the whole body; its answer is still there to read.
        }

        var answer = new StringBuilder();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
                if (Answered(answer.ToString()))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Reset after the answer: what was read is the answer.
        }

        return answer.ToString();
    }

    /// <summary>Whether the whole answer has arrived: its headers and as many body bytes as Content-Length says.</summary>
    private static bool Answered(string text)
    {
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var length = text[..end].Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return length is null || text.Length - end - 4 >= int.Parse(length["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary><c>HTTP/1.1 401</c>: the version and status, without the reason phrase.</summary>
    private static string StatusLine(string answer) => string.Join(' ', answer.Split("\r\n")[0].Split(' ').Take(2));

    private static bool ClosesConnection(string answer) =>
        answer.Split("\r\n\r\n")[0].Split("\r\n").Any(h => h.Equals("Connection: close", StringComparison.OrdinalIgnoreCase));
}
