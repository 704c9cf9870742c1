using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>publish</c>: publishes registrations to RabbitMQ the way a .NET producer does: MassTransit on RabbitMQ and the
/// plugin's <c>PublishModelRegistered</c> (fills in the key and timestamp, validates, waits for the publisher confirm),
/// to exchange <c>Hokusai.Bus.Contracts:ModelRegistered</c>, mandatory: a registration that no queue receives is a failure.
/// </summary>
internal static class PublishCommand
{
    public const string Exchange = HokusaiNames.ModelRegisteredExchange;

    public static Command Create()
    {
        // Resolved when the command runs, never as a default: --help would print RABBITMQ_URL, password and all.
        var rabbitMq = CommonOptions.Broker();
        var file = new Option<string>("--file", "-f")
        {
            Description = "A registration as JSON (the guide's payload); '-' reads standard input. Field options override its fields.",
            HelpName = "path|-",
        };
        var modelId = Text("--model-id", "model_id, e.g. model_abc123.");
        var tokenSymbol = Text("--token-symbol", "token_symbol, 1 to 64 characters, e.g. TOKEN_ABC.");
        var version = Text("--version", "registered_version, e.g. 1.");
        var metrics = Pairs("--metric", "A baseline metric, name=value (repeatable), e.g. --metric accuracy=0.85 --metric f1_score=0.82.");
        var modelName = Text("--model-name", "metadata.model_name, e.g. sentiment-analyzer.");
        var runId = Text("--mlflow-run-id", "metadata.mlflow_run_id.");
        var contributor = Text("--contributor-address", "metadata.contributor_address.");
        var experiment = Text("--experiment-name", "metadata.experiment_name.");
        var tags = Pairs("--tag", "A metadata tag, name=value (repeatable).");
        var key = Text("--idempotency-key", "idempotency_key; derived from the registration (UUIDv5) when omitted.");
        var timestamp = Text("--timestamp", "timestamp, ISO 8601 (e.g. 2024-01-15T10:30:00Z); now when omitted.");
        var count = CommonOptions.Int("--count", "Publish N registrations (a load): model ids get a -1..-N suffix, so each has its own key unless one is given.", 1, 1, 10_000_000);
        var concurrency = CommonOptions.Int("--concurrency", "Publishes awaiting their confirm at once (with --count).", 32, 1, 1024);
        var timeout = CommonOptions.Seconds("--timeout", "Give up when one publish is not confirmed by the broker within this many seconds.", 30, minimum: 0.1);

        var command = new Command("publish", $"Publish model registrations to RabbitMQ (exchange {Exchange}) with MassTransit and PublishModelRegistered, publisher confirms on.")
        {
            rabbitMq, file, modelId, tokenSymbol, version, metrics, modelName, runId, contributor, experiment, tags, key, timestamp,
            count, concurrency, timeout,
        };
        command.Validators.Add(result =>
        {
            var path = result.GetValue(file);
            if (path is not null and not "-" && !File.Exists(path))
            {
                result.AddError($"--file: no such file '{path}'.");
            }

            if (result.GetValue(timestamp) is { } text && !TryTimestamp(text, out _))
            {
                result.AddError($"--timestamp must be an ISO 8601 date and time, e.g. 2024-01-15T10:30:00Z; got '{text}'.");
            }

            if (path is null && result.GetValue(modelId) is null)
            {
                result.AddError("--model-id is required (or give a payload with --file).");
            }

            if (path is null && result.GetValue(tokenSymbol) is null)
            {
                result.AddError("--token-symbol is required (or give a payload with --file).");
            }

            if (path is null && result.GetValue(version) is null)
            {
                result.AddError("--version is required (or give a payload with --file).");
            }
        });

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var registration = await LoadAsync(parseResult, file, cancellationToken);
            registration = registration with
            {
                ModelId = parseResult.GetValue(modelId) ?? registration.ModelId,
                TokenSymbol = parseResult.GetValue(tokenSymbol) ?? registration.TokenSymbol,
                RegisteredVersion = parseResult.GetValue(version) ?? registration.RegisteredVersion,
                IdempotencyKey = parseResult.GetValue(key) ?? registration.IdempotencyKey,
                Timestamp = parseResult.GetValue(timestamp) is { } ts && TryTimestamp(ts, out var at) ? at : registration.Timestamp,
                BaselineMetrics = Merge(registration.BaselineMetrics, ParseMetrics(parseResult.GetValue(metrics))),
                Metadata = registration.Metadata with
                {
                    ModelName = parseResult.GetValue(modelName) ?? registration.Metadata.ModelName,
                    MlflowRunId = parseResult.GetValue(runId) ?? registration.Metadata.MlflowRunId,
                    ContributorAddress = parseResult.GetValue(contributor) ?? registration.Metadata.ContributorAddress,
                    ExperimentName = parseResult.GetValue(experiment) ?? registration.Metadata.ExperimentName,
                    Tags = ParseTags(parseResult.GetValue(tags)) is { Count: > 0 } given
                        ? Merge(registration.Metadata.Tags ?? new Dictionary<string, string>(), given)
                        : registration.Metadata.Tags,
                },
            };

            // Check before connecting, with the timestamp the helper would fill in.
            var problems = ModelRegisteredValidation.Validate(
                registration.Timestamp == default ? registration with { Timestamp = DateTimeOffset.UtcNow } : registration);
            if (problems.Count > 0)
            {
                throw new UsageException("The registration is not deliverable: " + string.Join(" ", problems));
            }

            return await PublishAsync(CommonOptions.BrokerOf(parseResult, rabbitMq), registration, parseResult.GetValue(count),
                parseResult.GetValue(concurrency), parseResult.GetSeconds(timeout), cancellationToken);
        });
        return command;
    }

    private static async Task<int> PublishAsync(
        Uri broker, ModelRegistered registration, int count, int concurrency, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var brokerErrors = new LastErrorLogger();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(brokerErrors).SetMinimumLevel(LogLevel.Error));
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(broker);
                // mandatory: a registration that no queue takes (nothing bound to the exchange: no host has started on
                // this vhost) comes back from the broker, and the publish fails, instead of being confirmed and dropped.
                rabbit.ConfigurePublish(publish => publish.UseExecute(static publishing =>
                {
                    if (publishing.TryGetPayload<RabbitMqSendContext>(out var rabbitMq))
                    {
                        rabbitMq.Mandatory = true;
                    }
                }));
                rabbit.ConfigureEndpoints(context);
            });
        });

        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        var shown = SettingValues.WithoutPassword(broker);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using (var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                startTimeout.CancelAfter(timeout);
                await bus.StartAsync(startTimeout.Token);
            }

            if (count == 1)
            {
                var sent = await PublishOneAsync(bus, registration, timeout, cancellationToken);
                AnsiConsole.MarkupLine(Markup.Escape(
                    $"Published {sent.ModelId} v{sent.RegisteredVersion} ({sent.TokenSymbol}) to exchange {Exchange} on {shown}: confirmed by the broker"));
                Console.WriteLine($"  idempotency_key: {sent.IdempotencyKey}");
                Console.WriteLine($"  timestamp:       {sent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)}");
                return ExitCodes.Success;
            }

            var sharedKey = !string.IsNullOrWhiteSpace(registration.IdempotencyKey);
            var published = 0;
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"Publishing {count} to {Markup.Escape(Exchange)}", maxValue: count);
                    await Parallel.ForAsync(1, count + 1,
                        new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                        async (i, token) =>
                        {
                            var copy = registration with
                            {
                                ModelId = $"{registration.ModelId}-{i.ToString(CultureInfo.InvariantCulture)}",
                            };
                            await PublishOneAsync(bus, copy, timeout, token);
                            Interlocked.Increment(ref published);
                            task.Increment(1);
                        });
                });

            var elapsed = Stopwatch.GetElapsedTime(started);
            var rate = (published / Math.Max(elapsed.TotalSeconds, 0.001)).ToString("0", CultureInfo.InvariantCulture);
            Console.WriteLine(
                $"Published {published} registrations ({registration.ModelId}-1 .. {registration.ModelId}-{count}) to exchange {Exchange} "
                + $"on {shown} in {Terminal.Seconds(elapsed)} s ({rate}/s), each confirmed by the broker.");
            Console.WriteLine(sharedKey
                ? $"All share idempotency key {registration.IdempotencyKey} (given): receivers process one and treat the rest as duplicates."
                : "Each has its own idempotency key (derived from its model id).");
            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Terminal.Error($"no publisher confirm from {shown} within {Terminal.Seconds(timeout)} s (--timeout)."
                + (brokerErrors.Last is { } last ? $" Last broker error: {last}" : " Is RabbitMQ running there?"));
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex.GetBaseException() is MessageReturnedException || ex is MessageReturnedException)
        {
            Terminal.Error($"the broker returned the registration: exchange {Exchange} on {shown} routed it to no queue, so nothing "
                + "will deliver it. Start the host on this virtual host (it binds its queues to the exchange), or check the vhost.");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is RabbitMqConnectionException or MassTransitException)
        {
            Terminal.Error($"cannot publish to {shown}: {ex.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await bus.StopAsync(stopTimeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Nothing left to confirm; the process is exiting.
            }
        }
    }

    private static async Task<ModelRegistered> PublishOneAsync(IBus bus, ModelRegistered registration, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var publishTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        publishTimeout.CancelAfter(timeout);
        return await bus.PublishModelRegistered(registration, cancellationToken: publishTimeout.Token);
    }

    private static async Task<ModelRegistered> LoadAsync(ParseResult parseResult, Option<string> file, CancellationToken cancellationToken)
    {
        if (parseResult.GetValue(file) is not { } path)
        {
            return new ModelRegistered();
        }

        var bytes = await CommonOptions.ReadBodyAsync(path, cancellationToken);
        try
        {
            return ModelRegisteredJson.Deserialize(bytes);
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--file {path} is not a registration payload: {ex.Message}");
        }
    }

    private static Option<string> Text(string name, string description) => new(name) { Description = description, HelpName = "text" };

    private static Option<string[]> Pairs(string name, string description)
    {
        var option = new Option<string[]>(name) { Description = description, HelpName = "name=value", Arity = ArgumentArity.ZeroOrMore };
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                var eq = token.Value.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    result.AddError($"{name} must be name=value; got '{token.Value}'.");
                }
                else if (name == "--metric" && !double.TryParse(token.Value[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    result.AddError($"{name} value must be a number (e.g. accuracy=0.85); got '{token.Value}'.");
                }
            }
        });
        return option;
    }

    private static Dictionary<string, double> ParseMetrics(string[]? pairs) =>
        (pairs ?? []).Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => double.Parse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private static Dictionary<string, string> ParseTags(string[]? pairs) =>
        (pairs ?? []).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    private static Dictionary<string, T> Merge<T>(IReadOnlyDictionary<string, T> first, Dictionary<string, T> second)
    {
        var merged = new Dictionary<string, T>(first, StringComparer.Ordinal);
        foreach (var (name, value) in second)
        {
            merged[name] = value;
        }

        return merged;
    }

    private static bool TryTimestamp(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);


    /// <summary>Keeps MassTransit's last error (e.g. a refused connection), to explain a publish that timed out.</summary>
    private sealed class LastErrorLogger : ILoggerProvider, ILogger
    {
        public string? Last { get; private set; }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Last = exception is null ? formatter(state, exception) : $"{formatter(state, exception)} ({exception.GetBaseException().Message})";
            }
        }

        public void Dispose()
        {
        }
    }
}
