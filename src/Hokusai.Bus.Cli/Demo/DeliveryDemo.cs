using System.Diagnostics;
using System.Security.Cryptography;
using Hokusai.Bus.Cli.Receiving;
using Hokusai.Bus.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Hokusai.Bus.Cli.Demo;

/// <summary>
/// <c>demo</c> with one endpoint: the guide's registrations published to the plugin on an in-memory bus and delivered to
/// a local verifying receiver that may misbehave on purpose (<c>--fail-first</c>, <c>--down-for</c>); every attempt,
/// retry, breaker change and receipt is printed as it happens, then a table per registration.
/// </summary>
internal sealed class DeliveryDemo(
    int count,
    int duplicates,
    ReceiverBehaviour behaviour,
    IReadOnlyDictionary<string, string?> settings,
    TimeSpan deadline)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, KeyStats> _keys = new(StringComparer.Ordinal);
    private int _breakerOpens;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var secret = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var registrations = DemoPayloads.Take(count);
        await using var receiver = await LocalReceiver.StartAsync(secret, 0, behaviour, OnReceipt, cancellationToken);
        await WarmUpAsync(receiver, cancellationToken);
        var observer = new PluginObserver(OnDeliveryEvent);

        var configuration = new Dictionary<string, string?>(settings)
        {
            ["Hokusai:Webhook:Url"] = receiver.WebhookUrl.ToString(),
            ["Hokusai:Webhook:Secret"] = secret,
        };
        using var host = DemoHost.Build(configuration, observer);
        AnsiConsole.MarkupLine($"[bold]Receiver[/]  {receiver.WebhookUrl} (Hokusai.Bus.Receiver: verifies X-Hokusai-Signature, de-duplicates by idempotency key)");
        var misbehaviour = new List<string>();
        if (behaviour.FailFirst > 0)
        {
            misbehaviour.Add($"500 to its first {behaviour.FailFirst} request(s)");
        }

        if (behaviour.DownFor > TimeSpan.Zero)
        {
            misbehaviour.Add($"503 to everything for {Terminal.Seconds(behaviour.DownFor)} s from the first publish");
        }

        if (misbehaviour.Count > 0)
        {
            AnsiConsole.MarkupLine("          misbehaving on purpose: " + string.Join(", ", misbehaviour));
        }

        try
        {
            // Resolving the options validates them, as starting the host would.
            var options = host.Services.GetRequiredService<IOptions<HokusaiWebhookOptions>>().Value;
            AnsiConsole.MarkupLine(
                $"[bold]Bus[/]       in-memory MassTransit, queue {HokusaiQueues.WebhookDelivery}; retries {options.MaxRetries} from {Terminal.Seconds(options.RetryDelay)} s doubling, "
                + $"breaker opens after {options.CircuitBreakerFailureThreshold} failures for {Terminal.Seconds(options.CircuitBreakerRecoveryTime)} s, "
                + $"timeout {Terminal.Seconds(options.Timeout)} s");
            await host.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException invalid)
        {
            await Console.Error.WriteLineAsync("The delivery settings are invalid:");
            foreach (var failure in invalid.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure);
            }

            return ExitCodes.Usage;
        }

        var published = 0;
        var finished = true;
        (long Delivered, long Failed) outcome = default;
        try
        {
            var bus = host.Services.GetRequiredService<IBus>();
            _clock.Restart(); // times are from the first publish
            receiver.StartOutageNow(); // and so is --down-for
            foreach (var registration in registrations)
            {
                published++;
                await PublishAsync(bus, registration, republish: false, cancellationToken);
            }

            finished = await WaitAsync(observer, published, cancellationToken);
            if (finished && duplicates > 0)
            {
                Line("grey", "republish", $"the first {duplicates} again, same keys (a producer retrying): the receiver should suppress them");
                foreach (var registration in registrations.Take(duplicates))
                {
                    published++;
                    await PublishAsync(bus, registration, republish: true, cancellationToken);
                }

                finished = await WaitAsync(observer, published, cancellationToken);
            }

            outcome = (observer.Delivered, observer.Failed);
        }
        finally
        {
            await DemoHost.StopAsync(host);
        }

        return Summarize(observer, receiver, published, finished, outcome.Delivered, outcome.Failed);
    }

    /// <summary>One request to the receiver's health endpoint first, so the first delivery's times are not start-up costs.</summary>
    private static async Task WarmUpAsync(LocalReceiver receiver, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.PostAsync(receiver.HealthUrl, new StringContent("{\"test\": true}"), cancellationToken);
    }

    private async Task<bool> WaitAsync(PluginObserver observer, int outcomes, CancellationToken cancellationToken)
    {
        var left = deadline - _clock.Elapsed;
        try
        {
            await observer.WaitForOutcomesAsync(outcomes, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            Line("red", "deadline", $"not all outcomes within {Terminal.Seconds(deadline)} s (--deadline)");
            return false;
        }
    }

    private async Task PublishAsync(IBus bus, ModelRegistered registration, bool republish, CancellationToken cancellationToken)
    {
        var sent = await bus.PublishModelRegistered(registration, cancellationToken: cancellationToken);
        lock (_gate)
        {
            var stats = Stats(sent.IdempotencyKey);
            stats.ModelId = sent.ModelId;
            stats.Published++;
        }

        Line("blue", republish ? "republish" : "publish", $"{Model(sent.ModelId)} key {sent.IdempotencyKey}");
    }

    private void OnReceipt(Receipt receipt)
    {
        if (receipt.IdempotencyKey is { } key)
        {
            lock (_gate)
            {
                var stats = Stats(key);
                if (receipt.Kind == ReceiptKind.Delivered)
                {
                    stats.Processed++;
                }
                else if (receipt.Kind == ReceiptKind.Duplicate)
                {
                    stats.Suppressed++;
                }
            }
        }

        var (color, what) = receipt.Kind switch
        {
            ReceiptKind.Delivered => ("green", $"processed {receipt.ModelId}"),
            ReceiptKind.Duplicate => ("yellow", $"duplicate of {receipt.ModelId} suppressed (already_processed)"),
            ReceiptKind.Refused => ("red", $"refused: {receipt.Detail}"),
            _ => ("red", receipt.Detail),
        };
        Line(color, "receiver", $"#{receipt.Number} -> {receipt.Status} {what}");
    }

    private void OnDeliveryEvent(WebhookDeliveryEvent deliveryEvent)
    {
        switch (deliveryEvent)
        {
            case WebhookAttemptFinished attempt:
            {
                string model;
                lock (_gate)
                {
                    var stats = Stats(attempt.IdempotencyKey);
                    stats.Attempts++;
                    model = stats.ModelId ?? attempt.IdempotencyKey;
                }

                var trial = attempt.IsTrial ? " (breaker trial)" : "";
                Line(attempt.Kind == WebhookAttemptKind.Accepted ? "green" : "red", "attempt",
                    $"{Model(model)} #{attempt.Attempt}: {attempt.Outcome} in {Terminal.Ms(attempt.Duration.TotalMilliseconds)} ms{trial}");
                break;
            }

            case WebhookRetryScheduled retry:
                // The first retry is attempt 2: "retry 1", as the CLI README and the guide count them.
                Line("yellow", "retry", $"retry {retry.NextAttempt - 1} scheduled in {Terminal.Ms(retry.Delay.TotalMilliseconds)} ms");
                break;
            case WebhookDeferred deferred:
                Line("yellow", "deferred",
                    $"{Model(ModelOf(deferred.IdempotencyKey))} waits {Terminal.Ms(deferred.Delay.TotalMilliseconds)} ms in a delay queue: {deferred.Reason}");
                break;
            case WebhookBreakerChanged changed:
            {
                if (changed.To == WebhookCircuitState.Open)
                {
                    Interlocked.Increment(ref _breakerOpens);
                }

                var meaning = changed.To switch
                {
                    WebhookCircuitState.Open => "no requests until the recovery time has passed; deliveries wait, nothing is lost",
                    WebhookCircuitState.HalfOpen => "one trial request goes out",
                    _ => "deliveries flow again",
                };
                Line(changed.To == WebhookCircuitState.Closed ? "green" : "red", "breaker", $"{changed.From} -> {changed.To}: {meaning}");
                break;
            }

            case WebhookDelivered delivered:
                Line("green", "delivered",
                    $"{Model(ModelOf(delivered.IdempotencyKey))} after {delivered.Attempts} attempt(s) in {Terminal.Ms(delivered.Duration.TotalMilliseconds)} ms");
                break;
            case WebhookFailed failed:
                lock (_gate)
                {
                    Stats(failed.IdempotencyKey).Failed++;
                }

                Line("red", "failed",
                    $"{Model(ModelOf(failed.IdempotencyKey))} after {failed.Attempts} attempt(s): {failed.Reason}; to {HokusaiQueues.WebhookDelivery}{HokusaiQueues.ErrorSuffix}");
                break;
        }
    }

    private int Summarize(PluginObserver observer, LocalReceiver receiver, int published, bool finished, long delivered, long failed)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Registrations");
        table.AddColumns("model id", "idempotency key", "published", "attempts", "receiver processed", "duplicates suppressed", "failed");
        lock (_gate)
        {
            foreach (var (key, stats) in _keys.Where(k => k.Value.Published > 0))
            {
                table.AddRow(Markup.Escape(stats.ModelId ?? "?"), Markup.Escape(key), $"{stats.Published}", $"{stats.Attempts}",
                    $"{stats.Processed}", $"{stats.Suppressed}", stats.Failed > 0 ? $"[red]{stats.Failed}[/]" : "0");
            }
        }

        AnsiConsole.WriteLine();
        AnsiConsole.Write(table);

        var breaker = observer.BreakerState switch
        {
            WebhookCircuitState.Closed => "closed",
            WebhookCircuitState.Open => "open",
            _ => "half-open",
        };
        var republished = DuplicatesPublished();
        AnsiConsole.MarkupLine(
            $"[bold]Summary:[/] published {published} ({published - republished} registrations + {republished} re-published), "
            + $"delivered {delivered}, failed {failed}");
        AnsiConsole.MarkupLine(
            $"         receiver: processed {receiver.Delivered}, duplicates suppressed {receiver.Duplicates}, "
            + $"requests {receiver.Requests} ({receiver.SimulatedFailures} failed on purpose)");
        AnsiConsole.MarkupLine(
            $"         sender: retries {observer.Retries}, breaker opens {Volatile.Read(ref _breakerOpens)} (breaker now {breaker}); "
            + $"{Terminal.Seconds(_clock.Elapsed)} s");

        if (finished && failed == 0 && delivered == published)
        {
            AnsiConsole.MarkupLine($"[green]All {published} delivered.[/]");
            return ExitCodes.Success;
        }

        AnsiConsole.MarkupLine(
            $"[red]Not all delivered: {delivered} of {published}; {failed} failed (in {HokusaiQueues.WebhookDelivery}{HokusaiQueues.ErrorSuffix}), "
            + $"{Math.Max(0, published - delivered - failed)} still pending.[/]");
        return ExitCodes.Failure;
    }

    private int DuplicatesPublished()
    {
        lock (_gate)
        {
            return _keys.Values.Sum(s => Math.Max(0, s.Published - 1));
        }
    }

    private string? ModelOf(string? key)
    {
        lock (_gate)
        {
            return key is not null && _keys.TryGetValue(key, out var stats) ? stats.ModelId ?? key : key;
        }
    }

    private KeyStats Stats(string key)
    {
        if (!_keys.TryGetValue(key, out var stats))
        {
            _keys[key] = stats = new KeyStats();
        }

        return stats;
    }

    private static string Model(string? modelId) => (modelId ?? "?").PadRight(14);

    private void Line(string color, string what, string text)
    {
        var at = _clock.Elapsed.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        lock (_gate)
        {
            AnsiConsole.MarkupLine($"[grey]+{at}s[/] [{color}]{what,-9}[/] {Markup.Escape(text)}");
        }
    }

    private sealed class KeyStats
    {
        public string? ModelId { get; set; }

        public int Published { get; set; }

        public int Attempts { get; set; }

        public int Processed { get; set; }

        public int Suppressed { get; set; }

        public int Failed { get; set; }
    }
}
