using System.CommandLine;
using Hokusai.Bus.Cli.Demo;
using Hokusai.Bus.Cli.Receiving;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>demo</c>: the real delivery path with nothing to install. An in-memory MassTransit bus runs the plugin
/// (<c>AddHokusaiWebhooks</c>: its consumer, retries and circuit breaker) against a local receiver built with the
/// receiver library; the guide's example registrations are published and every attempt, retry, breaker change and
/// receipt is shown as it happens.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var count = CommonOptions.Int("--count", "Registrations to publish: the guide's example first, then variants with other model ids.", 5, 1, 1000);
        var duplicates = CommonOptions.Int("--duplicates", "Then publish the first N again (same idempotency keys), as a producer's retry would: the receiver suppresses them.", 1, 0, 1000);
        var failFirst = CommonOptions.Int("--fail-first", "The receiver answers 500 to its first N requests.", 0, 0, 100_000);
        var downFor = CommonOptions.Seconds("--down-for", "The receiver answers 503 to everything for this many seconds from the first publish.", 0);
        var retryDelay = CommonOptions.Seconds("--retry-delay", "WEBHOOK_RETRY_DELAY: the first retry's delay, doubled for each next one.", 0.2, minimum: 0.001);
        var maxRetries = CommonOptions.Int("--max-retries", "WEBHOOK_MAX_RETRIES: retries after the first attempt.", 5, 0, 20);
        var threshold = CommonOptions.Int("--breaker-threshold", "WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD: consecutive failed attempts that open the breaker.", 5, 1, 1000);
        var recovery = CommonOptions.Seconds("--recovery", "WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME: how long an open breaker sends nothing.", 2, minimum: 0.001);
        var timeout = CommonOptions.Seconds("--timeout", "WEBHOOK_TIMEOUT: the limit of one HTTP attempt.", 5, minimum: 0.001);
        var concurrency = CommonOptions.Int("--concurrency", "WEBHOOK_CONCURRENCY: deliveries in flight at once.", 32, 1, 1000);
        var deadline = CommonOptions.Seconds("--deadline", "Give up waiting for the outcomes after this many seconds.", 60, minimum: 1);
        var endpoints = CommonOptions.Int("--endpoints", "Deliver to this many webhook endpoints at once (default, endpoint-2, ...), each its own receiver, secret and queue.", 1, 1, 5);
        var down = new Option<string>("--down")
        {
            Description = "With --endpoints: this endpoint's receiver answers 503 to everything, to watch the others go on unaffected.",
            HelpName = "name",
        };

        var command = new Command("demo", "Watch the real delivery consumer (retries, circuit breaker) deliver the guide's registrations to a local verifying receiver: in memory, no servers needed.")
        {
            count, duplicates, failFirst, downFor, retryDelay, maxRetries, threshold, recovery, timeout, concurrency, deadline,
            endpoints, down,
        };
        command.Validators.Add(result =>
        {
            // Only when both parsed: a value that did not parse has its own error already.
            if (CommonOptions.TryGet(result, duplicates, out var republish) && CommonOptions.TryGet(result, count, out var registrations)
                && republish > registrations)
            {
                result.AddError("--duplicates cannot exceed --count.");
            }

            if (result.GetValue(down) is { } name && CommonOptions.TryGet(result, endpoints, out var n)
                && !EndpointsDemo.Names(n).Contains(name, StringComparer.Ordinal))
            {
                result.AddError($"--down must be one of the endpoints: {string.Join(", ", EndpointsDemo.Names(n))}.");
            }
        });
        command.SetAction((parseResult, cancellationToken) =>
        {
            // As configuration, the way the host reads them, so that every endpoint inherits them as a host's would.
            var settings = new Dictionary<string, string?>
            {
                ["Hokusai:Webhook:RetryDelay"] = Seconds(parseResult.GetSeconds(retryDelay)),
                ["Hokusai:Webhook:MaxRetries"] = $"{parseResult.GetValue(maxRetries)}",
                ["Hokusai:Webhook:CircuitBreakerFailureThreshold"] = $"{parseResult.GetValue(threshold)}",
                ["Hokusai:Webhook:CircuitBreakerRecoveryTime"] = Seconds(parseResult.GetSeconds(recovery)),
                ["Hokusai:Webhook:Timeout"] = Seconds(parseResult.GetSeconds(timeout)),
                ["Hokusai:Webhook:Concurrency"] = $"{parseResult.GetValue(concurrency)}",
            };
            return parseResult.GetValue(endpoints) > 1 || parseResult.GetValue(down) is not null
                ? new EndpointsDemo(parseResult.GetValue(endpoints), parseResult.GetValue(down), parseResult.GetValue(count),
                    settings, parseResult.GetSeconds(deadline)).RunAsync(cancellationToken)
                : new DeliveryDemo(parseResult.GetValue(count), parseResult.GetValue(duplicates),
                    new ReceiverBehaviour(parseResult.GetValue(failFirst), parseResult.GetSeconds(downFor)),
                    settings, parseResult.GetSeconds(deadline)).RunAsync(cancellationToken);
        });
        return command;
    }

    private static string Seconds(TimeSpan value) =>
        value.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
