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
            if (!await connection.VirtualHostExistsAsync(api, parseResult, cancellationToken))
            {
                return ExitCodes.Failure;
            }

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
                var (key, modelId) = DeadLetterSelection.Identify(message.Payload, message.Field);
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
        var command = new Command("replay", "Move the messages of <queue>_error back to <queue>: all of them (a dynamic shovel), or only those "
            + "--key, --model-id, --since and --limit select; none lost, each acknowledged after the broker confirmed its copy.");
        connection.AddTo(command);
        command.Options.Add(timeout);
        command.Options.Add(key);
        command.Options.Add(modelId);
        command.Options.Add(since);
        command.Options.Add(limit);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (source, error) = connection.Queues(parseResult);
            using var api = connection.Api(parseResult);
            if (!await connection.VirtualHostExistsAsync(api, parseResult, cancellationToken))
            {
                return ExitCodes.Failure;
            }

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
                var broker = connection.Amqp(parseResult);
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
            await ReplayRecords.WriteAsync(connection.Amqp(parseResult), source,
                moving.Select(m => (m.Payload, (Func<string, string?>)m.Field, movingAt)), cancellationToken);
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
            var (key, model) = DeadLetterSelection.Identify(message.Payload, message.Field);
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

    /// <summary>
    /// --queue, --endpoint and the broker, read as every command reads it: <c>--rabbitmq</c>, else <c>RABBITMQ_URL</c>,
    /// else the default (<see cref="CommonOptions.BrokerOf"/>). Its user, password and virtual host are the management
    /// API's too, unless <c>--user</c>, <c>--password</c> or <c>--vhost</c> say otherwise; the management API is
    /// <c>--management</c>, else <c>RABBITMQ_MANAGEMENT_URL</c>, else port 15672 of the broker's host. No password is
    /// ever printed: not in help (nothing is resolved before the command runs), not in an error, not in a suggested command.
    /// </summary>
    private sealed class ConnectionOptions
    {
        private const int ManagementPort = 15672;

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

        private readonly Option<Uri> _broker = WithAlias(CommonOptions.Broker(), "--amqp");

        private readonly Option<Uri> _management = CommonOptions.Url("--management",
            $"RabbitMQ's management API; {CommonOptions.ManagementVariable} when omitted, else port {ManagementPort} of the broker's host.",
            required: false, example: "http://127.0.0.1:15672");

        private readonly Option<string> _user = new("--user", "-u") { Description = "Management API user. Default: the broker URL's.", HelpName = "user" };
        private readonly Option<string> _password = new("--password", "-p") { Description = "Management API password. Default: the broker URL's.", HelpName = "password" };
        private readonly Option<string> _vhost = new("--vhost") { Description = "The virtual host. Default: the broker URL's (/ when it names none).", HelpName = "vhost" };

        private static Option<Uri> WithAlias(Option<Uri> option, string alias)
        {
            option.Aliases.Add(alias);
            return option;
        }

        /// <summary>
        /// The connection options given on the command line that a pasted command needs (the environment is the same
        /// shell's): without them a suggested replay would act on another broker or vhost. No password is repeated.
        /// </summary>
        public string Repeated(ParseResult parseResult)
        {
            var given = parseResult.GetValue(_broker);
            var management = parseResult.GetValue(_management);
            var user = parseResult.GetValue(_user);
            var vhost = VirtualHost(parseResult);
            return (given is null ? "" : $" --rabbitmq {WithoutPassword(given)}")
                   + (management is null ? "" : $" --management {Base(management).ToString().TrimEnd('/')}")
                   + (user is null or "guest" ? "" : $" --user {user} --password …")
                   + (vhost == "/" ? "" : $" --vhost {vhost}");
        }

        public void AddTo(Command command)
        {
            command.Options.Add(_endpoint);
            command.Options.Add(_queue);
            command.Options.Add(_broker);
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

        /// <summary>
        /// The broker over AMQP (a selective replay, the delivery log's records): the broker, with the virtual host,
        /// user and password these options resolve to. Given only <c>--management</c>, its host on port 5672.
        /// </summary>
        public Uri Amqp(ParseResult parseResult)
        {
            var broker = Broker(parseResult);
            var (user, password) = Credentials(parseResult);
            return new UriBuilder(broker)
            {
                Path = "/" + Uri.EscapeDataString(VirtualHost(parseResult)),
                UserName = Uri.EscapeDataString(user),
                Password = Uri.EscapeDataString(password),
            }.Uri;
        }

        public ManagementApi Api(ParseResult parseResult)
        {
            var (user, password) = Credentials(parseResult);
            return new ManagementApi(Base(Management(parseResult)), user, password, VirtualHost(parseResult), TimeSpan.FromSeconds(30));
        }

        /// <summary>False, having said so on stderr naming it and where it came from, when the virtual host does not exist.</summary>
        public async Task<bool> VirtualHostExistsAsync(ManagementApi api, ParseResult parseResult, CancellationToken cancellationToken)
        {
            if (await api.VirtualHostExistsAsync(cancellationToken))
            {
                return true;
            }

            var from = parseResult.GetValue(_vhost) is not null ? "--vhost"
                : parseResult.GetValue(_broker) is not null ? "the --rabbitmq URL"
                : !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CommonOptions.BrokerVariable)) ? CommonOptions.BrokerVariable
                : "the default broker URL";
            Terminal.Error($"virtual host '{api.VirtualHost}' (from {from}) does not exist on {Base(Management(parseResult))}.");
            return false;
        }

        /// <summary>--rabbitmq or RABBITMQ_URL; else, given --management, the default user on its host's port 5672; else the default.</summary>
        private Uri Broker(ParseResult parseResult)
        {
            if (parseResult.GetValue(_broker) is null
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CommonOptions.BrokerVariable))
                && parseResult.GetValue(_management) is { } management)
            {
                return new UriBuilder(CommonOptions.DefaultBroker) { Host = management.Host }.Uri;
            }

            return CommonOptions.BrokerOf(parseResult, _broker);
        }

        private Uri Management(ParseResult parseResult)
        {
            if (parseResult.GetValue(_management) is { } given)
            {
                return given;
            }

            var variable = Environment.GetEnvironmentVariable(CommonOptions.ManagementVariable);
            if (!string.IsNullOrEmpty(variable))
            {
                return Uri.TryCreate(variable, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                    ? url
                    : throw new UsageException($"{CommonOptions.ManagementVariable} must be an http:// or https:// URL, e.g. http://127.0.0.1:15672.");
            }

            return new UriBuilder("http", Broker(parseResult).Host, ManagementPort).Uri;
        }

        /// <summary>--user and --password; else the management URL's; else the broker URL's; else guest.</summary>
        private (string User, string Password) Credentials(ParseResult parseResult)
        {
            var (managementUser, managementPassword) = UserInfo(Management(parseResult));
            var (brokerUser, brokerPassword) = UserInfo(Broker(parseResult));
            return (
                parseResult.GetValue(_user) ?? managementUser ?? brokerUser ?? "guest",
                parseResult.GetValue(_password) ?? managementPassword ?? brokerPassword ?? "guest");
        }

        /// <summary>--vhost, else the broker URL's path (<c>/</c> when it has none), unescaped.</summary>
        private string VirtualHost(ParseResult parseResult)
        {
            if (parseResult.GetValue(_vhost) is { } given)
            {
                return given;
            }

            var path = Broker(parseResult).AbsolutePath;
            return path.Length <= 1 ? "/" : Uri.UnescapeDataString(path[1..]);
        }

        private static (string? User, string? Password) UserInfo(Uri url)
        {
            if (string.IsNullOrEmpty(url.UserInfo))
            {
                return (null, null);
            }

            var parts = url.UserInfo.Split(':', 2);
            return (Uri.UnescapeDataString(parts[0]), parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : null);
        }

        /// <summary>The URL without its user info: what is shown, and what the API client is given.</summary>
        private static Uri Base(Uri url) => new UriBuilder(url) { UserName = "", Password = "" }.Uri;

        private static string WithoutPassword(Uri url) =>
            url.UserInfo.Contains(':', StringComparison.Ordinal)
                ? url.ToString().Replace(url.UserInfo + "@", url.UserInfo.Split(':')[0] + ":…@", StringComparison.Ordinal)
                : url.ToString();
    }
}
