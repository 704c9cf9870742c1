using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.Operations.DeliveryLog;
using Hokusai.Bus.TestSupport;
using RabbitMQ.Client;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>
/// The delivery log on real RabbitMQ: every decision about a delivery written to the stream <c>hokusai-delivery-log</c>
/// by the host, and read back through the CLI (<c>hokusai-bus deliveries</c>), the host's <c>GET /deliveries</c> and its
/// page, as one timeline per registration across attempts, hosts and replays.
/// </summary>
public sealed class DeliveryLogTests
{
    internal const string Token = "delivery-log-token-5f3e9a1c";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task A_registration_refused_twice_then_delivered_shows_its_3_attempts_and_outcome_in_order_in_the_cli_the_api_and_the_page()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number <= 2 ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
        var tokenFile = Path.Combine(Directory.CreateTempSubdirectory("hokusai-token-").FullName, "token");
        File.WriteAllText(tokenFile, Token + "\n");
        // A URL with a query a record must never carry.
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["WEBHOOK_URL"] = scenario.Receiver.Url + "?token=query-secret-7c1d",
            ["DELIVERY_LOG_TOKEN_FILE"] = tokenFile,
        });
        var key = $"log-{Guid.NewGuid():N}";

        await scenario.PublishAsync(Payloads.Registration(key));
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        var timeline = await TimelineAsync(host, key, t => t["status"]!.GetValue<string>() == "delivered");

        // The API: attempts 1 to 3 and the outcome, in order, with what each attempt got.
        var records = timeline["records"]!.AsArray();
        Assert.Equal(["Attempt", "RetryScheduled", "Attempt", "RetryScheduled", "Attempt", "Delivered"],
            records.Select(r => r!["kind"]!.GetValue<string>()));
        Assert.Equal([503, 503, 200], records.Where(r => r!["kind"]!.GetValue<string>() == "Attempt").Select(r => r!["status"]!.GetValue<int>()));
        Assert.Equal("model_abc123", timeline["model_id"]!.GetValue<string>());
        Assert.Equal(3, records[^1]!["attempts"]!.GetValue<int>());

        // The CLI, reading the same stream.
        var cli = await Cli.RunAsync("deliveries", "--rabbitmq", scenario.Rabbit.AmqpUrl.ToString(), "--key", key);
        Assert.True(cli.ExitCode == 0, cli.Output);
        var lines = cli.Output.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Contains($"{key}  model_abc123  model_registered  delivered", cli.Output, StringComparison.Ordinal);
        Assert.Equal(6, lines.Count);
        Assert.Contains("attempt 1", lines[0], StringComparison.Ordinal);
        Assert.Contains("HTTP 503", lines[0], StringComparison.Ordinal);
        Assert.Contains("attempt 3", lines[4], StringComparison.Ordinal);
        Assert.Contains("HTTP 200", lines[4], StringComparison.Ordinal);
        Assert.Contains("delivered", lines[5], StringComparison.Ordinal);

        // The page, as a browser asks for it.
        using var http = Client(host, Token);
        using var page = new HttpRequestMessage(HttpMethod.Get, $"deliveries?key={key}");
        page.Headers.Accept.ParseAdd("text/html");
        var html = await (await http.SendAsync(page)).Content.ReadAsStringAsync();
        Assert.Equal(3, CountOf(html, "<tr class=\"attempt\">"));
        Assert.True(html.IndexOf("attempt 1", StringComparison.Ordinal) < html.IndexOf("attempt 3", StringComparison.Ordinal));
        Assert.Contains("<span class=\"status\">delivered</span>", html, StringComparison.Ordinal);

        // Tokens: none and a wrong one get 401; the one from the file, 200.
        using var none = await Client(host, null).GetAsync($"deliveries?key={key}");
        using var wrong = await Client(host, Token + "x").GetAsync($"deliveries?key={key}");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.DoesNotContain(Token, host.Output, StringComparison.Ordinal);

        // No record holds a secret or a URL's query.
        await AssertNoSecretsAsync(scenario, ["query-secret", "?token", Scenario.Secret, Token]);
    }

    [RabbitFact]
    public async Task The_page_shows_the_timeline_in_a_real_browser()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number <= 2 ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(new Dictionary<string, string> { ["DELIVERY_LOG_TOKEN"] = Token });
        var key = $"page-{Guid.NewGuid():N}";
        await scenario.PublishAsync(Payloads.Registration(key));
        await TimelineAsync(host, key, t => t["status"]!.GetValue<string>() == "delivered");
        var screenshot = Path.Combine(BuildOutput.RepositoryRoot, "artifacts", "deliveries-page.png"); // kept by CI
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);

        var start = new ProcessStartInfo("node", [Path.Combine(BuildOutput.RepositoryRoot, "tests", "node", "deliveries_page.js"),
            new Uri(host.BaseUrl, $"deliveries?key={key}").ToString(), Token, screenshot])
        {
            WorkingDirectory = Path.Combine(BuildOutput.RepositoryRoot, "tests", "node"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var browser = Process.Start(start)!;
        var output = browser.StandardOutput.ReadToEndAsync();
        var error = browser.StandardError.ReadToEndAsync();
        await browser.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(browser.ExitCode == 0, await error);
        var shown = JsonNode.Parse(await output)!;

        Assert.Equal(200, shown["status"]!.GetValue<int>());
        Assert.Equal("Hokusai deliveries", shown["title"]!.GetValue<string>());
        var timeline = Assert.Single(shown["timelines"]!.AsArray())!;
        Assert.Equal(key, timeline["key"]!.GetValue<string>());
        Assert.Equal("delivered", timeline["status"]!.GetValue<string>());
        var what = timeline["rows"]!.AsArray().Select(r => r![1]!.GetValue<string>()).ToList();
        Assert.Equal(["attempt 1", "retry scheduled", "attempt 2", "retry scheduled", "attempt 3", "delivered"], what);
        Assert.True(new FileInfo(screenshot).Length > 1000);
    }

    [RabbitFact]
    public async Task A_registration_across_a_host_SIGKILL_and_a_second_host_is_one_timeline_naming_both_hosts()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Receiver.Respond = info => ValueTask.FromResult(info.Number == 1 ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
        // The retry waits 5 s in the first host: long enough to kill it mid-wait.
        var settings = new Dictionary<string, string> { ["WEBHOOK_RETRY_DELAY"] = "5", ["DELIVERY_LOG_TOKEN"] = Token };
        var first = await scenario.StartHostAsync(settings);
        var key = $"kill-{Guid.NewGuid():N}";

        await scenario.PublishAsync(Payloads.Registration(key));
        await TimelineAsync(first, key, t => t["records"]!.AsArray().Any(r => r!["kind"]!.GetValue<string>() == "RetryScheduled"));
        await first.KillAsync();
        var second = await scenario.StartHostAsync(settings);
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);
        var timeline = await TimelineAsync(second, key, t => t["status"]!.GetValue<string>() == "delivered");

        Assert.Equal(2, timeline["hosts"]!.AsArray().Count);
        var attempts = timeline["records"]!.AsArray().Where(r => r!["kind"]!.GetValue<string>() == "Attempt").ToList();
        Assert.Equal(2, attempts.Count);
        Assert.NotEqual(attempts[0]!["host"]!.GetValue<string>(), attempts[1]!["host"]!.GetValue<string>());
    }

    [RabbitFact]
    public async Task A_dead_lettered_registration_replayed_from_error_and_delivered_has_the_replay_in_its_timeline()
    {
        await using var scenario = await Scenario.StartAsync();
        var refuse = 1;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(Volatile.Read(ref refuse) == 1 ? new WebhookReceiver.Response(413) : WebhookReceiver.Response.Ok);
        var host = await scenario.StartHostAsync(new Dictionary<string, string> { ["DELIVERY_LOG_TOKEN"] = Token });
        var key = $"replay-{Guid.NewGuid():N}";

        await scenario.PublishAsync(Payloads.Registration(key));
        await TimelineAsync(host, key, t => t["status"]!.GetValue<string>() == "failed");
        Volatile.Write(ref refuse, 0);
        var replay = await Cli.RunAsync("dead-letters", "replay", "--queue", Scenario.Queue, "--key", key, "--vhost", scenario.Rabbit.VirtualHost,
            "--management", Services.ManagementUrl.ToString(), "--amqp", scenario.Rabbit.AmqpUrl.ToString());
        Assert.True(replay.ExitCode == 0, replay.Output);
        var timeline = await TimelineAsync(host, key, t => t["status"]!.GetValue<string>() == "delivered");

        Assert.Equal(["Attempt", "Failed", "Replayed", "Attempt", "Delivered"],
            timeline["records"]!.AsArray().Select(r => r!["kind"]!.GetValue<string>()));
    }

    [RabbitFact]
    public async Task Ten_thousand_deliveries_leave_ten_thousand_delivered_records_none_written_twice()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync();
        var keys = Enumerable.Range(0, 10_000).Select(i => $"many-{i}-{Guid.NewGuid():N}").ToList();

        await using (var publisher = new Faults.ConfirmingPublisher(scenario.Rabbit.AmqpUrl))
        {
            foreach (var key in keys)
            {
                await publisher.PublishAsync(Payloads.Registration(key), Wait);
            }
        }

        await scenario.Receiver.WaitForAcceptedAsync(keys.Count, TimeSpan.FromMinutes(3));
        var delivered = new List<DeliveryRecord>();
        await RabbitMqManagement.Eventually(async () =>
        {
            delivered = [.. (await ReadAllAsync(scenario)).Where(r => r.Kind == DeliveryRecordKind.Delivered)];
            return delivered.Count >= keys.Count;
        }, Wait, "10,000 delivered records");

        Assert.Equal(keys.Count, delivered.Count);
        Assert.Equal(keys.Order(), delivered.Select(r => r.Key).Order());
        Assert.Equal(0, await HostMetrics.ReadAsync(host, "hokusai_delivery_log_dropped_total"));
    }

    [RabbitFact]
    public async Task A_look_while_the_first_host_is_creating_the_log_finds_it_empty_or_waits_for_it_and_never_fails()
    {
        // RabbitMQ 3.10 refuses a consume while a stream is being declared (406 "does not have a replica on the local
        // node"), closes the connection on a publish to it (541), and its management API answers 500 to a queue
        // listing then. CI runs met each: a first GET /deliveries answered 503, and a test's queue listing failed.
        // Each round races a reader and a listing against the declare of a fresh stream, as a host's first record does.
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-log-race");
        var factory = new ConnectionFactory { Uri = rabbit.AmqpUrl };
        await using var declaring = await factory.CreateConnectionAsync();
        for (var round = 0; round < 20; round++)
        {
            var log = new DeliveryLogStream($"race-{round}");
            var reader = new DeliveryLogReader(token => factory.CreateConnectionAsync(token), log.Name);
            await using var channel = await declaring.CreateChannelAsync();
            var declared = log.DeclareAsync(channel, CancellationToken.None);
            var listed = rabbit.QueuesAsync();
            while (true)
            {
                try
                {
                    await foreach (var _ in reader.ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
                    {
                    }

                    break; // read to its end: the stream was there
                }
                catch (DeliveryLogUnavailableException e) when (!e.Exists)
                {
                    // Not declared yet: the page shows no timelines. Look again until it is.
                }
            }

            await declared;
            await listed; // the listing raced the declare and did not fail
        }
    }

    /// <summary>The timeline of <paramref name="key"/> from <c>GET /deliveries</c>, once <paramref name="until"/> holds for it.</summary>
    internal static async Task<JsonNode> TimelineAsync(HostProcess host, string key, Func<JsonNode, bool> until)
    {
        using var http = Client(host, Token);
        JsonNode? found = null;
        try
        {
            await RabbitMqManagement.Eventually(async () =>
            {
                var answer = JsonNode.Parse(await http.GetStringAsync($"deliveries?key={key}"))!;
                found = answer["timelines"]!.AsArray().SingleOrDefault();
                return found is not null && until(found);
            }, Wait, $"the timeline of {key}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {found?.ToJsonString() ?? "none"}", e);
        }

        return found!;
    }

    internal static HttpClient Client(HostProcess host, string? token)
    {
        var http = new HttpClient { BaseAddress = host.BaseUrl };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    /// <summary>Every record of the scenario's delivery log.</summary>
    internal static async Task<List<DeliveryRecord>> ReadAllAsync(Scenario scenario)
    {
        var reader = new DeliveryLogReader(token => new ConnectionFactory { Uri = scenario.Rabbit.AmqpUrl }.CreateConnectionAsync(token));
        var records = new List<DeliveryRecord>();
        await foreach (var record in reader.ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
        {
            records.Add(record);
        }

        return records;
    }

    /// <summary>No record of the scenario's log holds any of <paramref name="secrets"/>, as stored (JSON).</summary>
    internal static async Task AssertNoSecretsAsync(Scenario scenario, IReadOnlyList<string> secrets)
    {
        var records = await ReadAllAsync(scenario);
        Assert.NotEmpty(records);
        Assert.All(records, record =>
        {
            var stored = Encoding.UTF8.GetString(record.ToUtf8());
            Assert.All(secrets, secret => Assert.DoesNotContain(secret, stored, StringComparison.Ordinal));
        });
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}

/// <summary>The built <c>hokusai-bus</c> tool, run as a process, as a user runs it.</summary>
internal static class Cli
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [BuildOutput.Dll("Hokusai.Bus.Cli", "hokusai-bus.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment.Remove("RABBITMQ_URL");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output + await error);
    }
}
