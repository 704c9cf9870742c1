using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hokusai.Bus.Operations;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>dead-letters list|replay</c>: the <c>_error</c> queue of a delivery queue, through RabbitMQ's management API.
/// <c>list</c> reads without consuming (get with <c>ack_requeue_true</c>); <c>replay</c> moves every message back to
/// the source queue with a dynamic shovel (acknowledged only after the broker confirmed each publish), waits until the
/// shovel has finished and removed itself, and says how many were moved.
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
        var command = new Command("list", "Show each dead letter's idempotency key and reason (MT-Fault-* headers), without consuming it.");
        connection.AddTo(command);
        command.Options.Add(limit);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (source, error) = connection.Queues(parseResult);
            using var api = connection.Api(parseResult);
            var total = await api.ReadyCountAsync(error, cancellationToken);
            if (total is null)
            {
                Terminal.Error($"queue {error} does not exist in vhost {api.VirtualHost} (nothing has failed there yet, or the name is wrong).");
                return ExitCodes.Failure;
            }

            var messages = total == 0 ? [] : await api.PeekAsync(error, parseResult.GetValue(limit), cancellationToken) ?? [];
            Console.WriteLine(
                $"{error} (vhost {api.VirtualHost}): {total} message(s)"
                + (messages.Count < total ? $", showing the first {messages.Count}" : "")
                + (total > 0 ? "; listed without consuming them" : "")
                + (total > 0 ? $". Replay: hokusai-bus dead-letters replay --queue {source}" : ""));
            var number = 0;
            foreach (var message in messages)
            {
                number++;
                var (key, modelId) = Identify(message.Payload);
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
        var command = new Command("replay", "Move every message of <queue>_error back to <queue> (a dynamic shovel: none lost), then print how many were moved.");
        connection.AddTo(command);
        command.Options.Add(timeout);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (source, error) = connection.Queues(parseResult);
            using var api = connection.Api(parseResult);
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
            var limit = parseResult.GetSeconds(timeout);
            while (await api.ShovelExistsAsync(name, cancellationToken))
            {
                if (await api.ShovelStatusAsync(name, cancellationToken) is ("terminated", var reason))
                {
                    await api.DeleteShovelAsync(name, CancellationToken.None);
                    var left = await api.ReadyCountAsync(error, CancellationToken.None) ?? 0;
                    Terminal.Error($"the shovel stopped: {reason ?? "no reason given"}. Moved {Math.Max(0, before.Value - left)}; {left} left in {error}.");
                    return ExitCodes.Failure;
                }

                if (deadline.Elapsed > limit)
                {
                    await api.DeleteShovelAsync(name, CancellationToken.None);
                    var left = await api.ReadyCountAsync(error, CancellationToken.None) ?? 0;
                    Terminal.Error($"not finished within {Terminal.Seconds(limit)} s (--timeout); shovel removed. Moved {Math.Max(0, before.Value - left)}; {left} left in {error}.");
                    return ExitCodes.Failure;
                }

                // The management API has no event to await: poll, briefly.
                await Task.Delay(100, cancellationToken);
            }

            var remaining = await api.ReadyCountAsync(error, cancellationToken) ?? 0;
            Console.WriteLine(
                $"Moved {before} message(s) from {error} to {source}, each acknowledged after the broker confirmed it; "
                + $"{error} now holds {remaining}.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The key (the payload's, or the one the host derives) and model id of a raw or MassTransit-enveloped registration.</summary>
    private static (string? Key, string? ModelId) Identify(byte[] payload)
    {
        try
        {
            var root = JsonNode.Parse(payload) as JsonObject;
            var body = root?["message"] as JsonObject ?? root;
            if (body is null)
            {
                return (null, null);
            }

            var registration = ModelRegisteredJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
            var key = string.IsNullOrWhiteSpace(registration.IdempotencyKey) && string.IsNullOrWhiteSpace(registration.ModelId)
                ? null
                : IdempotencyKey.For(registration);
            return (key, string.IsNullOrWhiteSpace(registration.ModelId) ? null : registration.ModelId);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException
                                       or ArgumentException or FormatException)
        {
            return (null, null); // not a registration (it may be why it is a dead letter)
        }
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
            new Uri("http://127.0.0.1:15672"));

        private static Option<Uri> WithDefault(Option<Uri> option, Uri value)
        {
            option.DefaultValueFactory = _ => value;
            return option;
        }

        private readonly Option<string> _user = new("--user", "-u") { Description = "Management API user.", DefaultValueFactory = _ => "guest" };
        private readonly Option<string> _password = new("--password", "-p") { Description = "Management API password.", DefaultValueFactory = _ => "guest" };
        private readonly Option<string> _vhost = new("--vhost") { Description = "The virtual host.", DefaultValueFactory = _ => "/" };

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

        public ManagementApi Api(ParseResult parseResult) => new(
            parseResult.GetRequiredValue(_management), parseResult.GetValue(_user)!, parseResult.GetValue(_password)!,
            parseResult.GetValue(_vhost)!, TimeSpan.FromSeconds(30));
    }
}
