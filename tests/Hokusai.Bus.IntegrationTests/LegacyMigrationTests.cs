using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// Migration phase 1 as the old consumers live it: the documentation's Python examples (the pika producer of
/// docs/INTEGRATION.md, the legacy consumer of docs/MIGRATION.md) run as written (Debian's python3 with python3-pika and
/// python3-redis) against the host on real RabbitMQ and Redis.
/// </summary>
public sealed class LegacyMigrationTests
{
    private const string List = "hokusai:model_ready_queue";
    private const string Channel = "hokusai:model_ready_queue:pubsub";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task The_readmes_pika_producer_publishes_a_registration_the_host_delivers()
    {
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync();

        var run = await PythonAsync(ReadmeSnippet.Python("pika-producer", ReadmeSnippet.Integration), new() { ["RABBITMQ_URL"] = scenario.Rabbit.AmqpUrl.ToString() });

        Assert.True(run.ExitCode == 0, run.Output);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        var delivered = Assert.Single(scenario.Receiver.Requests);
        Assert.Equal("550e8400-e29b-41d4-a716-446655440000", delivered.IdempotencyKey);
        Assert.True(delivered.SignatureValid);
    }

    [RabbitRedisFact]
    public async Task The_readmes_legacy_consumer_processes_every_registration_from_the_fallback_with_nothing_in_its_dlq()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var published = new ConcurrentQueue<string>();
        await client.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Channel), (_, message) => published.Enqueue(message!));
        await using var scenario = await Scenario.StartAsync();
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = $"redis://{redis.Address}/0",
        });

        var keys = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            keys.Add(Guid.NewGuid().ToString());
            var json = Payloads.Registration(keys[^1]);
            json = (i % 4) switch
            {
                // improvement given, as the legacy webhook publisher put it in metadata
                1 => json.Replace("\"model_name\": \"sentiment-analyzer\"", "\"model_name\": \"modèle 🚀\", \"improvement_percentage\": 5.0", StringComparison.Ordinal),
                // no mlflow run id at all
                2 => json.Replace("\"mlflow_run_id\": \"run_xyz789\",", "", StringComparison.Ordinal),
                // fractional seconds, as Python's utcnow().isoformat() + "Z" sends them
                3 => json.Replace("2024-01-15T10:30:00Z", "2026-05-17T21:40:44.294123Z", StringComparison.Ordinal),
                _ => json,
            };
            await scenario.PublishAsync(json);
        }

        await RabbitMqManagement.Eventually(async () => await client.GetDatabase().ListLengthAsync(List) == keys.Count, Wait,
            "every registration on the legacy list");
        var run = await PythonAsync(ReadmeSnippet.Python("legacy-consumer", ReadmeSnippet.Migration),
            new() { ["REDIS_URL"] = $"redis://{redis.Address}/0", ["COUNT"] = keys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(run.ExitCode == 0, run.Output);
        var processed = run.Output.Split('\n').Where(l => l.StartsWith("processed ", StringComparison.Ordinal)).ToList();
        Assert.True(processed.Count == keys.Count, run.Output);
        Assert.All(keys, key => Assert.Contains(processed, line => line.StartsWith($"processed {key} ", StringComparison.Ordinal)));
        Assert.Contains(processed, line => line.Contains(" accuracy 5.00% 2024-01-15", StringComparison.Ordinal));
        Assert.Contains(processed, line => line.Contains(" accuracy 0.00% 2026-05-17", StringComparison.Ordinal));
        Assert.Equal(0, await client.GetDatabase().ListLengthAsync(List + ":dlq"));
        Assert.Equal(0, await client.GetDatabase().ListLengthAsync(List + ":processing"));

        // The channel carries the payload alone, no envelope.
        await RabbitMqManagement.Eventually(() => Task.FromResult(published.Count == keys.Count), Wait, "every payload on the channel");
        Assert.All(published, message =>
        {
            using var payload = JsonDocument.Parse(message);
            Assert.False(payload.RootElement.TryGetProperty("payload", out _));
            Assert.Equal("TOKEN_ABC", payload.RootElement.GetProperty("token_symbol").GetString());
            Assert.DoesNotContain("Z\"", payload.RootElement.GetProperty("timestamp").GetRawText(), StringComparison.Ordinal);
        });
    }

    [RabbitRedisFact]
    public async Task A_host_killed_mid_stream_and_registrations_published_twice_leave_one_list_entry_per_key()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        await using var scenario = await Scenario.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = redis.Address,
            ["REDIS_CONCURRENCY"] = "16",
        };
        var host = await scenario.StartHostAsync(settings);

        var keys = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            keys.Add(Guid.NewGuid().ToString());
            await scenario.PublishAsync(Payloads.Registration(keys[^1]));
        }

        await RabbitMqManagement.Eventually(async () => await client.GetDatabase().ListLengthAsync(List) >= 20, Wait, "some on the list");
        await host.KillAsync();
        // The same registrations again: what a redelivery looks like to Redis.
        foreach (var key in keys.Take(50))
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        await scenario.StartHostAsync(settings);
        await RabbitMqManagement.Eventually(async () => await client.GetDatabase().ListLengthAsync(List) >= keys.Count, Wait,
            "every registration on the list");
        await RabbitMqManagement.Eventually(
            async () => await scenario.Rabbit.DepthAsync("hokusai-redis-fallback") == (0, 0), Wait, "the fallback queue drained");

        var entries = (await client.GetDatabase().ListRangeAsync(List))
            .Select(v => JsonDocument.Parse((string)v!).RootElement.GetProperty("message_id").GetString()!)
            .ToList();
        Assert.Equal(keys.Order(), entries.Order()); // each key exactly once
    }

    internal static async Task<(int ExitCode, string Output)> PythonAsync(string code, Dictionary<string, string> environment)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hokusai-readme-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(file, code);
        try
        {
            var start = new ProcessStartInfo("/usr/bin/python3", [file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(Wait);
            return (process.ExitCode, await output + await error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>The documentation's code blocks marked <c>&lt;!-- tested: NAME --&gt;</c>, read from the file users read.</summary>
internal static class ReadmeSnippet
{
    /// <summary>For integrators: publishing, receiving, the pipeline and the site.</summary>
    public const string Integration = "docs/INTEGRATION.md";

    /// <summary>For whoever runs the legacy Redis consumers.</summary>
    public const string Migration = "docs/MIGRATION.md";

    public static string Python(string name, string readme) => Block(name, "python", readme);

    /// <param name="name">The marker's name.</param>
    /// <param name="language">The fence's language.</param>
    /// <param name="readme">The file, from the repository root.</param>
    public static string Block(string name, string language, string readme)
    {
        var lines = File.ReadAllLines(Path.Combine(BuildOutput.RepositoryRoot, readme));
        var marker = Array.FindIndex(lines, l => l.Trim() == $"<!-- tested: {name} -->");
        Assert.True(marker >= 0, $"{readme} has no <!-- tested: {name} --> block");
        Assert.Equal("```" + language, lines[marker + 1].Trim());
        var end = Array.FindIndex(lines, marker + 2, l => l.Trim() == "```");
        return string.Join('\n', lines[(marker + 2)..end]) + "\n";
    }
}
