using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Operations;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>dead-letters list|replay</c>: the <c>_error</c> queue of a delivery queue, through RabbitMQ's management API.
/// <c>list</c> reads without consuming (get with <c>ack_requeue_true</c>), as text or <c>--json</c>; <c>replay</c> moves
/// every message back to the source queue with a dynamic shovel (acknowledged only after the broker confirmed each
/// publish), waits until the shovel has finished and removed itself, and says how many were moved. With
/// <c>--key</c>, <c>--model-id</c>, <c>--since</c> or <c>--limit</c> it moves only those, over AMQP (<see cref="SelectiveReplay"/>).
/// </summary>
internal static class DeadLettersCommand
{
    private const string ErrorSuffix = "_error";
    private const string SkippedSuffix = "_skipped";

    public static Command Create()
    {
        var command = new Command("dead-letters", "List or replay the registrations in a delivery queue's _error queue (RabbitMQ management API).");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateReplay());
        return command;
    }

    private static Command CreateList()
    {
        var connection = new ConnectionOptions();
        var limit = CommonOptions.Int("--limit", "Show at most this many messages.", 100, 1, 100_000);
        var json = new Option<bool>("--json") { Description = "Print one JSON document (queue, total, messages with key, model, reason, exception, failed_at) for scripts." };
        var command = new Command("list", "Show each dead letter's idempotency key and reason (MT-Fault-* headers), without consuming it.");
        connection.AddTo(command);
        command.Options.Add(limit);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (source, error) = connection.Queues(parseResult);
            using var api = connection.Api(parseResult);
            var total = await api.ReadyCountAsync(error, cancellationToken);
            if (total is null)
            {
                if (await api.ReadyCountAsync(source, cancellationToken) is null)
                {
                    Terminal.Error($"queue {source} does not exist in vhost {api.VirtualHost}, nor its {error}: is the name or the vhost wrong?");
                    return ExitCodes.Failure;
                }

                // MassTransit declares _error with the first fault: no queue yet is the truth "nothing has failed".
                total = 0;
            }

            var messages = total == 0 ? [] : await api.PeekAsync(error, parseResult.GetValue(limit), cancellationToken) ?? [];
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(Json(error, api.VirtualHost, total.Value, messages));
                return ExitCodes.Success;
            }

            Console.WriteLine(
                $"{error} (vhost {api.VirtualHost}): {total} message(s)"
                + (messages.Count < total ? $", showing the first {messages.Count}" : "")
                + (total > 0 ? "; listed without consuming them" : "")
                + (total > 0 ? $". Replay: hokusai-bus dead-letters replay --queue {source}" + connection.Repeated(parseResult) : ""));
            var number = 0;
            foreach (var message in messages)
            {
                number++;
                var (key, modelId) = DeadLetterSelection.Identify(message.Payload);
                Console.WriteLine($"[{number}] idempotency key {key ?? "-"}  model {modelId ?? "-"}");
                Console.WriteLine($"    reason:    {message.Header("MT-Fault-Message") ?? "-"}");
                Console.WriteLine($"    exception: {message.Header("MT-Fault-ExceptionType") ?? "-"}");
                Console.WriteLine($"    failed at: {message.Header("MT-Fault-Timestamp") ?? "-"}");
                if (message.Header("MT-Reason") is { } reason)
                {
                    Console.WriteLine($"    mt-reason: {reason}");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateReplay()
    {
        var connection = new ConnectionOptions();
        var timeout = CommonOptions.Seconds("--timeout", "Give up (and remove the shovel) if the move has not finished within this many seconds.", 60, minimum: 1);
        var key = new Option<string>("--key") { Description = "Move only the dead letter with this idempotency key.", HelpName = "key" };
        var modelId = new Option<string>("--model-id") { Description = "Move only dead letters of this model id.", HelpName = "id" };
        var since = new Option<DateTimeOffset?>("--since")
        {
            Description = "Move only dead letters that failed at or after this time (ISO 8601, UTC unless it says otherwise; MT-Fault-Timestamp).",
            HelpName = "time",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                        System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
                {
                    return at;
                }

                result.AddError($"--since must be an ISO 8601 time, e.g. 2026-12-01T09:00:00Z; got '{text}'.");
                return null;
            },
        };
        var limit = new Option<int?>("--limit")
        {
            Description = "Move at most this many (the first that match, in queue order).",
            HelpName = "n",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1)
                {
                    return n;
                }

                result.AddError($"--limit must be a whole number of at least 1; got '{text}'.");
                return null;
            },
        };
        var amqp = CommonOptions.Amqp("--amqp",
            "The broker over AMQP, for a selective replay. Default: the management host on port 5672 with --user, --password and --vhost.");
        var command = new Command("replay", "Move the messages of <queue>_error back to <queue>: all of them (a dynamic shovel), or only those "
            + "--key, --model-id, --since and --limit select; none lost, each acknowledged after the broker confirmed its copy.");
        connection.AddTo(command);
        command.Options.Add(timeout);
        command.Options.Add(key);
        command.Options.Add(modelId);
        command.Options.Add(since);
        command.Options.Add(limit);
        command.Options.Add(amqp);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (source, error) = connection.Queues(parseResult);
            using var api = connection.Api(parseResult);
            var selection = new DeadLetterSelection(parseResult.GetValue(key), parseResult.GetValue(modelId),
                parseResult.GetValue(since), parseResult.GetValue(limit));
            var before = await api.ReadyCountAsync(error, cancellationToken);
            if (before is null)
            {
                Terminal.Error($"queue {error} does not exist in vhost {api.VirtualHost}.");
                return ExitCodes.Failure;
            }

            if (before == 0)
            {
                Console.WriteLine($"Nothing to replay: {error} is empty. Moved 0 message(s).");
                return ExitCodes.Success;
            }

            if (!await api.QueueExistsAsync(source, cancellationToken))
            {
                Terminal.Error($"queue {source} does not exist in vhost {api.VirtualHost}: start the host (it declares the queue) before replaying.");
                return ExitCodes.Failure;
            }

            if (selection.Selective)
            {
                var broker = parseResult.GetValue(amqp) ?? connection.Amqp(parseResult);
                var result = await SelectiveReplay.RunAsync(broker, error, source, selection, cancellationToken);
                Console.WriteLine(
                    $"Moved {result.Moved} of {result.Looked} message(s) from {error} to {source}, each acknowledged after the broker "
                    + $"confirmed it; the other {result.Left} are back in {error}, unchanged.");
                await ReplayRecords.WriteAsync(broker, source, result.MovedBodies, cancellationToken);
                return ExitCodes.Success;
            }

            // What is about to move, for the delivery log's replayed records (the shovel moves bodies it does not show).
            var moving = await api.PeekAsync(error, (int)Math.Min(before.Value, 10_000), cancellationToken) ?? [];
            var movingAt = DateTimeOffset.UtcNow;
            var name = $"hokusai-bus-replay-{Guid.NewGuid():N}";
            var local = "amqp:///" + Uri.EscapeDataString(api.VirtualHost);
            await api.CreateShovelAsync(name, new JsonObject
            {
                ["src-protocol"] = "amqp091",
                ["src-uri"] = local,
                ["src-queue"] = error,
                ["dest-protocol"] = "amqp091",
                ["dest-uri"] = local,
                ["dest-queue"] = source,
                // Move what is there now, then stop and delete the shovel; ack each message only once the
                // destination confirmed it, so a failure half-way loses nothing.
                ["src-delete-after"] = "queue-length",
                ["ack-mode"] = "on-confirm",
            }, cancellationToken);
            Console.WriteLine($"Moving {before} message(s) from {error} to {source} (vhost {api.VirtualHost}) with dynamic shovel {name}...");

            var deadline = Stopwatch.StartNew();
            var within = parseResult.GetSeconds(timeout);
            while (await api.ShovelExistsAsync(name, cancellationToken))
            {
                if (await api.ShovelStatusAsync(name, cancellationToken) is ("terminated", var reason))
                {
                    await api.DeleteShovelAsync(name, CancellationToken.None);
                    var left = await api.ReadyCountAsync(error, CancellationToken.None) ?? 0;
                    Terminal.Error($"the shovel stopped: {reason ?? "no reason given"}. Moved {Math.Max(0, before.Value - left)}; {left} left in {error}.");
                    return ExitCodes.Failure;
                }

                if (deadline.Elapsed > within)
                {
                    await api.DeleteShovelAsync(name, CancellationToken.None);
                    var left = await api.ReadyCountAsync(error, CancellationToken.None) ?? 0;
                    Terminal.Error($"not finished within {Terminal.Seconds(within)} s (--timeout); shovel removed. Moved {Math.Max(0, before.Value - left)}; {left} left in {error}.");
                    return ExitCodes.Failure;
                }

                // The management API has no event to await: poll, briefly.
                await Task.Delay(100, cancellationToken);
            }

            var remaining = await api.ReadyCountAsync(error, cancellationToken) ?? 0;
            Console.WriteLine(
                $"Moved {before} message(s) from {error} to {source}, each acknowledged after the broker confirmed it; "
                + $"{error} now holds {remaining}.");
            await ReplayRecords.WriteAsync(parseResult.GetValue(amqp) ?? connection.Amqp(parseResult), source,
                moving.Select(m => (m.Payload, movingAt)), cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>list --json</c>: one document, snake_case like the payload.</summary>
    private static string Json(string queue, string virtualHost, long total, IReadOnlyList<PeekedMessage> messages)
    {
        var list = new JsonArray();
        foreach (var message in messages)
        {
            var (key, model) = DeadLetterSelection.Identify(message.Payload);
            list.Add(new JsonObject
            {
                ["idempotency_key"] = key,
                ["model_id"] = model,
                ["reason"] = message.Header("MT-Fault-Message"),
                ["exception_type"] = message.Header("MT-Fault-ExceptionType"),
                ["failed_at"] = message.Header("MT-Fault-Timestamp"),
                ["mt_reason"] = message.Header("MT-Reason"),
                ["redelivered"] = message.Redelivered,
            });
        }

        return new JsonObject
        {
            ["queue"] = queue,
            ["vhost"] = virtualHost,
            ["total"] = total,
            ["messages"] = list,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>--queue and the management API connection options.</summary>
    private sealed class ConnectionOptions
    {
        private readonly Option<string> _queue = new("--queue", "-q")
        {
            Description = "The delivery queue; its dead letters are in <queue>_error. Default: the --endpoint's queue.",
            HelpName = "name",
        };

        private readonly Option<string> _endpoint = new("--endpoint", "-e")
        {
            Description = "The webhook endpoint whose dead letters to use: default (hokusai-webhook-delivery) or a name from "
                + "Hokusai:Webhook:Endpoints (hokusai-webhook-delivery-<name>).",
            DefaultValueFactory = _ => WebhookEndpointNames.Default,
            HelpName = "name",
        };

        private readonly Option<Uri> _management = WithDefault(
            CommonOptions.Url("--management", "RabbitMQ's management API.", required: false, example: "http://127.0.0.1:15672"),
            DefaultManagement);

        private static readonly Uri DefaultManagement = new("http://127.0.0.1:15672");

        private static Option<Uri> WithDefault(Option<Uri> option, Uri value)
        {
            option.DefaultValueFactory = _ => value;
            return option;
        }

        private readonly Option<string> _user = new("--user", "-u") { Description = "Management API user.", DefaultValueFactory = _ => "guest" };
        private readonly Option<string> _password = new("--password", "-p") { Description = "Management API password.", DefaultValueFactory = _ => "guest" };
        private readonly Option<string> _vhost = new("--vhost") { Description = "The virtual host.", DefaultValueFactory = _ => "/" };

        /// <summary>
        /// The connection options given that differ from the defaults, for a command line to paste: without them a
        /// suggested replay would act on another broker or vhost. The password is never repeated.
        /// </summary>
        public string Repeated(ParseResult parseResult)
        {
            var management = parseResult.GetValue(_management)!;
            var user = parseResult.GetValue(_user)!;
            var vhost = parseResult.GetValue(_vhost)!;
            return (management.Equals(DefaultManagement) ? "" : $" --management {management.ToString().TrimEnd('/')}")
                   + (user == "guest" ? "" : $" --user {user} --password …")
                   + (vhost == "/" ? "" : $" --vhost {vhost}");
        }

        public void AddTo(Command command)
        {
            command.Options.Add(_endpoint);
            command.Options.Add(_queue);
            command.Options.Add(_management);
            command.Options.Add(_user);
            command.Options.Add(_password);
            command.Options.Add(_vhost);
        }

        /// <summary>
        /// The source queue and its dead-letter queue: <c>&lt;queue&gt;_error</c>, or <c>&lt;queue&gt;_skipped</c> when the
        /// name is given with that suffix (envelopes of another message type); a name given with <c>_error</c> is accepted too.
        /// </summary>
        public (string Source, string Error) Queues(ParseResult parseResult)
        {
            var queue = parseResult.GetValue(_queue) is { Length: > 0 } given
                ? given
                : WebhookEndpointNames.QueueOf(parseResult.GetValue(_endpoint)!);
            if (queue.EndsWith(SkippedSuffix, StringComparison.Ordinal))
            {
                return (queue[..^SkippedSuffix.Length], queue);
            }

            var source = queue.EndsWith(ErrorSuffix, StringComparison.Ordinal) ? queue[..^ErrorSuffix.Length] : queue;
            return (source, source + ErrorSuffix);
        }

        /// <summary>The broker over AMQP: the management host, port 5672, the same user, password and virtual host.</summary>
        public Uri Amqp(ParseResult parseResult) => new UriBuilder("amqp", parseResult.GetRequiredValue(_management).Host, 5672,
            Uri.EscapeDataString(parseResult.GetValue(_vhost)!))
        {
            UserName = Uri.EscapeDataString(parseResult.GetValue(_user)!),
            Password = Uri.EscapeDataString(parseResult.GetValue(_password)!),
        }.Uri;

        public ManagementApi Api(ParseResult parseResult) => new(
            parseResult.GetRequiredValue(_management), parseResult.GetValue(_user)!, parseResult.GetValue(_password)!,
            parseResult.GetValue(_vhost)!, TimeSpan.FromSeconds(30));
    }
}
