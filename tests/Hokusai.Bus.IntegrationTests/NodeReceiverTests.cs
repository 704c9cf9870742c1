using System.Diagnostics;
using System.Net;
using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// Node receivers (tests/node, with express and standardwebhooks from npm) against real deliveries from the host: what
/// the guide's Node snippet really accepts, and the receiver README's Standard Webhooks snippet with the official library.
/// </summary>
public sealed class NodeReceiverTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task The_guides_node_snippet_verifies_ascii_and_accented_text_and_refuses_what_JSON_stringify_rewrites()
    {
        await using var node = await NodeProcess.StartAsync("guide_receiver.js");
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["WEBHOOK_URL"] = $"http://127.0.0.1:{node.Port}/api/models/ready",
            ["WEBHOOK_MAX_RETRIES"] = "0",
        });
        var seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "model-registered.seed.json"));
        var cases = new (string Name, string Json, int Status)[]
        {
            ("the guide's example", seed, 200),
            ("slash and accents", Payloads.Registration().Replace("sentiment-analyzer", "a/b modèle é", StringComparison.Ordinal), 200),
            ("emoji", Payloads.Registration().Replace("sentiment-analyzer", "rocket 🚀", StringComparison.Ordinal), 401),
            ("1e-07", Payloads.Registration().Replace("0.85", "1e-07", StringComparison.Ordinal), 401),
            ("1e21", Payloads.Registration().Replace("0.85", "1e21", StringComparison.Ordinal), 401),
            ("score 1.0", Payloads.Registration().Replace("\"registered_version\": \"1\",", "\"registered_version\": \"1\", \"score\": 1.0,", StringComparison.Ordinal), 401),
            ("integer-like key", Payloads.Registration().Replace("\"f1_score\": 0.82", "\"f1_score\": 0.82, \"2024\": 0.9", StringComparison.Ordinal), 401),
        };
        var keys = new Dictionary<string, (string Name, int Status)>();
        foreach (var (name, json, status) in cases)
        {
            var key = json == seed ? "550e8400-e29b-41d4-a716-446655440000" : System.Text.RegularExpressions.Regex.Match(json, "\"idempotency_key\": \"([^\"]+)\"").Groups[1].Value;
            keys[key] = (name, status);
            await scenario.PublishAsync(json);
        }

        await node.WaitForAsync(() => keys.Keys.All(node.FirstStatus.ContainsKey), Wait);
        foreach (var (key, (name, status)) in keys)
        {
            Assert.True(node.FirstStatus[key] == status, $"{name}: expected {status}, got {node.FirstStatus[key]}");
        }

        // Headers the host never sends in its default form: no signature, and the original publisher's sha256=<hex>.
        using var http = new HttpClient();
        var body = Encoding.UTF8.GetBytes(seed);
        using var unsigned = new ByteArrayContent(body);
        unsigned.Headers.ContentType = new("application/json");
        Assert.Equal(HttpStatusCode.InternalServerError,
            (await http.PostAsync($"http://127.0.0.1:{node.Port}/api/models/ready", unsigned)).StatusCode);
        using var prefixed = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{node.Port}/api/models/ready")
        {
            Content = new ByteArrayContent(body),
        };
        prefixed.Content.Headers.ContentType = new("application/json");
        prefixed.Headers.Add("X-Hokusai-Signature", new WebhookSigner(Scenario.Secret, SignatureFormat.Sha256Prefixed).Sign(body));
        Assert.Equal(HttpStatusCode.InternalServerError, (await http.SendAsync(prefixed)).StatusCode);
    }

    [RabbitFact]
    public async Task The_receiver_readmes_standardwebhooks_snippet_verifies_real_deliveries_with_a_plain_secret()
    {
        var snippet = Path.Combine(Path.GetTempPath(), $"hokusai-standard-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(snippet, ReadmeSnippet.Block("standardwebhooks-node", "javascript", "src/Hokusai.Bus.Receiver/README.md"));
        try
        {
            await using var node = await NodeProcess.StartAsync("standard_receiver.js", snippet);
            await using var scenario = await Scenario.StartAsync();
            await scenario.StartHostAsync(new Dictionary<string, string>
            {
                ["WEBHOOK_URL"] = $"http://127.0.0.1:{node.Port}/api/models/ready",
                ["WEBHOOK_STANDARD_SIGNATURES"] = "true",
            });
            var keys = new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() };
            await scenario.PublishAsync(Payloads.Registration(keys[0]));
            await scenario.PublishAsync(Payloads.Registration(keys[1]).Replace("sentiment-analyzer", "rocket 🚀 modèle", StringComparison.Ordinal));

            await node.WaitForAsync(() => keys.All(node.FirstStatus.ContainsKey), Wait);
            Assert.All(keys, key => Assert.Equal(200, node.FirstStatus[key]));

            // A request signed with another secret is refused.
            using var http = new HttpClient();
            using var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{node.Port}/api/models/ready")
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            };
            var now = DateTimeOffset.UtcNow;
            forged.Headers.Add("webhook-id", "forged");
            forged.Headers.Add("webhook-timestamp", StandardWebhookHeaders.FormatTimestamp(now));
            forged.Headers.Add("webhook-signature", new StandardWebhookSigner(["another-secret"]).Sign("forged", now, "{}"u8));
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
        }
        finally
        {
            File.Delete(snippet);
        }
    }
}

/// <summary>A Node receiver from tests/node on 127.0.0.1; records the first status it answered per key.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Dictionary<string, int> _first = [];
    private readonly Recorded _recorded;

    private NodeProcess(Process process)
    {
        _process = process;
        _recorded = new Recorded(() => "first statuses: " + string.Join(", ", _first.Select(f => $"{f.Key} {f.Value}")));
    }

    public int Port { get; private set; }

    public IReadOnlyDictionary<string, int> FirstStatus => _recorded.Read(() => new Dictionary<string, int>(_first));

    public static async Task<NodeProcess> StartAsync(string script, params string[] arguments)
    {
        var folder = Path.Combine(BuildOutput.RepositoryRoot, "tests", "node");
        var start = new ProcessStartInfo("node", [Path.Combine(folder, script), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        start.Environment["WEBHOOK_SECRET"] = Scenario.Secret;
        var process = Process.Start(start)!;
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = new NodeProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("port ", StringComparison.Ordinal) == true)
            {
                port.TrySetResult(int.Parse(e.Data[5..], System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                node.Record(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Port = await port.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return node;
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked on every answer the receiver printed.</summary>
    public Task WaitForAsync(Func<bool> condition, TimeSpan timeout) =>
        _recorded.WaitAsync(condition, timeout, "the node receiver's answers");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line?.Split(' ') is [var key, var status] && int.TryParse(status, out var code))
        {
            _recorded.Record(() => _first.TryAdd(key, code));
        }
    }
}
