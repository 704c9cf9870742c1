using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Hokusai.Bus.Operations.DeliveryLog;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Spectre.Console;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>deliveries</c>: "did it arrive, and if not, why and when is the next try?", from the delivery log every host writes
/// to the RabbitMQ stream <c>hokusai-delivery-log</c>: one timeline per registration or event (attempts, waits, outcome,
/// hosts), <c>--waiting</c> for what has no outcome yet, <c>--follow</c> for records as they are written, and
/// <c>deliveries stats</c> per endpoint.
/// </summary>
internal static class DeliveriesCommand
{
    public static Command Create()
    {
        var broker = CommonOptions.Broker();
        var key = new Option<string>("--key") { Description = "Only this idempotency key.", HelpName = "key" };
        var modelId = new Option<string>("--model-id") { Description = "Only this model id.", HelpName = "id" };
        var endpoint = new Option<string>("--endpoint") { Description = "Only this endpoint (default, or a named one).", HelpName = "name" };
        var since = TimeOption("--since", "From when: ISO 8601, or a span back from now (30m, 24h, 7d). Default 24h.");
        var until = TimeOption("--until", "Up to when: ISO 8601, or a span back from now.");
        var status = new Option<string>("--status") { Description = "Only deliveries that are delivered, failed or waiting.", HelpName = "status" };
        status.AcceptOnlyFromAmong("delivered", "failed", "waiting");
        var waiting = new Option<bool>("--waiting") { Description = "List what has no outcome yet, with its next try." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Print records as they are written, until Ctrl+C." };
        var json = new Option<bool>("--json") { Description = "Print JSON, as GET /deliveries answers." };

        var command = new Command("deliveries", "Where is registration X? Timelines of deliveries from the delivery log (RabbitMQ stream hokusai-delivery-log).")
        {
            broker, key, modelId, endpoint, since, until, status, waiting, follow, json,
        };
        command.Subcommands.Add(Stats(broker));
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            var query = new DeliveryQuery
            {
                Key = parseResult.GetValue(key),
                ModelId = parseResult.GetValue(modelId),
                Endpoint = parseResult.GetValue(endpoint),
                Since = Time(parseResult.GetValue(since), now),
                Until = Time(parseResult.GetValue(until), now),
                Status = parseResult.GetValue(waiting) ? DeliveryStatus.Waiting
                    : parseResult.GetValue(status) is { } s ? Enum.Parse<DeliveryStatus>(s, ignoreCase: true) : null,
            };
            var reader = Reader(CommonOptions.BrokerOf(parseResult, broker));
            return await RunAsync(() => parseResult.GetValue(follow)
                ? FollowAsync(reader, query, parseResult.GetValue(json), now, cancellationToken)
                : PrintAsync(reader, query, parseResult.GetValue(json), parseResult.GetValue(waiting), now, cancellationToken));
        });
        return command;
    }

    private static Command Stats(Option<Uri> broker)
    {
        var since = TimeOption("--since", "From when: ISO 8601, or a span back from now (30m, 24h, 7d). Default 24h.");
        var endpoint = new Option<string>("--endpoint") { Description = "Only this endpoint.", HelpName = "name" };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("stats", "Per endpoint: delivered, failed, retried, attempt latency p50/p99, and deliveries by hour.")
        {
            broker, since, endpoint, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            var from = Time(parseResult.GetValue(since), now) ?? now - DeliveryQuery.DefaultWindow;
            var only = parseResult.GetValue(endpoint);
            var reader = Reader(CommonOptions.BrokerOf(parseResult, broker));
            return await RunAsync(async () =>
            {
                var stats = (await EndpointStats.OfAsync(reader.ReadAsync(from, cancellationToken: cancellationToken), cancellationToken))
                    .Where(s => only is null || s.Endpoint == only).ToList();
                if (parseResult.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(stats.Select(s => new
                    {
                        endpoint = s.Endpoint, delivered = s.Delivered, failed = s.Failed, retried = s.Retried, attempts = s.Attempts,
                        p50_ms = s.P50Ms, p99_ms = s.P99Ms,
                        delivered_by_hour = s.DeliveredByHour.Select(h => new { hour = h.Hour, delivered = h.Delivered }),
                    })));
                    return ExitCodes.Success;
                }

                PrintStats(stats, from);
                return ExitCodes.Success;
            });
        });
        return command;
    }

    private static Option<string> TimeOption(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, HelpName = "time" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } text && !DeliveryQuery.TryParseTime(text, DateTimeOffset.UtcNow, out _))
            {
                result.AddError($"{name} must be ISO 8601 (2026-12-06T10:00:00Z) or a span back from now (30m, 24h, 7d); got '{text}'.");
            }
        });
        return option;
    }

    private static DateTimeOffset? Time(string? text, DateTimeOffset now) =>
        text is not null && DeliveryQuery.TryParseTime(text, now, out var at) ? at : null;

    private static DeliveryLogReader Reader(Uri broker) =>
        new(cancellationToken => new ConnectionFactory { Uri = broker, ClientProvidedName = "hokusai-bus deliveries" }.CreateConnectionAsync(cancellationToken));

    /// <summary>Runs the reading, naming a broker that cannot be reached or a log that does not exist yet, in one line.</summary>
    private static async Task<int> RunAsync(Func<Task<int>> read)
    {
        try
        {
            return await read();
        }
        catch (BrokerUnreachableException)
        {
            Terminal.Error("Cannot reach RabbitMQ (--rabbitmq, or RABBITMQ_URL): check the host, port, user and password.");
            return ExitCodes.Failure;
        }
        catch (DeliveryLogUnavailableException e)
        {
            Terminal.Error(e.Message);
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> PrintAsync(
        DeliveryLogReader reader, DeliveryQuery query, bool json, bool waitingOnly, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var timelines = await query.ApplyAsync(reader.ReadAsync(query.From(now), cancellationToken: cancellationToken), cancellationToken);
        if (json)
        {
            Console.WriteLine(DeliveryTimelineJson.Of(timelines));
            return ExitCodes.Success;
        }

        if (timelines.Count == 0)
        {
            Console.WriteLine($"No deliveries match, in the log since {query.From(now):u}.");
            return query.Key is null ? ExitCodes.Success : ExitCodes.Failure;
        }

        foreach (var timeline in timelines)
        {
            if (waitingOnly)
            {
                var last = timeline.Records.LastOrDefault(r => r.Reason is not null || r.Outcome is not null);
                Console.WriteLine($"{timeline.Key}  {timeline.ModelId ?? "-"}  {string.Join(",", timeline.Endpoints)}  next try "
                                  + $"{(timeline.NextTry is { } next ? next.ToString("u", CultureInfo.InvariantCulture) : "when a host takes it")}"
                                  + (last is null ? "" : $"  (last: {last.Outcome ?? last.Reason})"));
                continue;
            }

            Console.WriteLine($"{timeline.Key}  {timeline.ModelId ?? "-"}  {timeline.EventType}  {timeline.Status.ToString().ToLowerInvariant()}"
                              + (timeline.NextTry is { } at && timeline.Status == DeliveryStatus.Waiting ? $"  next try {at:u}" : "")
                              + $"  hosts: {string.Join(", ", timeline.Hosts)}");
            foreach (var record in timeline.Records)
            {
                Console.WriteLine($"  {record.At.UtcDateTime:HH:mm:ss.fff}  {(record.Endpoint.Length == 0 ? "-" : record.Endpoint),-12} "
                                  + $"{DeliveryRecordText.What(record),-22} {DeliveryRecordText.Detail(record)}  [{record.Host}]");
            }
        }

        return ExitCodes.Success;
    }

    private static async Task<int> FollowAsync(DeliveryLogReader reader, DeliveryQuery query, bool json, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var record in reader.ReadAsync(query.From(now), follow: true, cancellationToken))
            {
                if (!query.Admits(record) || (query.ModelId is not null && record.ModelId != query.ModelId))
                {
                    continue;
                }

                Console.WriteLine(json
                    ? JsonSerializer.Serialize(record)
                    : $"{record.At.UtcDateTime:HH:mm:ss.fff}  {record.Key}  {(record.Endpoint.Length == 0 ? "-" : record.Endpoint),-12} {DeliveryRecordText.What(record),-22} {DeliveryRecordText.Detail(record)}  [{record.Host}]");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C ends following.
        }

        return ExitCodes.Success;
    }

    private static void PrintStats(IReadOnlyList<EndpointStats> stats, DateTimeOffset from)
    {
        var table = new Table().AddColumns("endpoint", "delivered", "failed", "retried", "attempts", "p50", "p99");
        foreach (var s in stats)
        {
            table.AddRow(Markup.Escape(s.Endpoint), s.Delivered.ToString("N0", CultureInfo.InvariantCulture), s.Failed.ToString("N0", CultureInfo.InvariantCulture),
                s.Retried.ToString("N0", CultureInfo.InvariantCulture), s.Attempts.ToString("N0", CultureInfo.InvariantCulture),
                $"{s.P50Ms:0.0} ms", $"{s.P99Ms:0.0} ms");
        }

        AnsiConsole.MarkupLine(Markup.Escape($"Delivery log since {from:u}:"));
        AnsiConsole.Write(table);
        foreach (var s in stats.Where(s => s.DeliveredByHour.Count > 0))
        {
            var chart = new BarChart().Label(Markup.Escape($"{s.Endpoint}: delivered by hour (UTC)")).Width(72);
            foreach (var (hour, delivered) in s.DeliveredByHour)
            {
                chart.AddItem(hour.ToString("MM-dd HH:00", CultureInfo.InvariantCulture), delivered, Color.Green);
            }

            AnsiConsole.Write(chart);
        }
    }

}
