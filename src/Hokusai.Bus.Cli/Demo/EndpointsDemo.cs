using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Hokusai.Bus.Cli.Receiving;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Hokusai.Bus.Cli.Demo;

/// <summary>
/// <c>demo --endpoints N [--down name]</c>: one registration stream delivered to N webhook endpoints at once, each a
/// local receiver with its own secret, configured as a host would be (<c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c>).
/// The endpoint given by <c>--down</c> answers 503 to everything: its breaker opens and cycles while the others receive
/// every registration as usual. Ends when every up endpoint has every registration.
/// </summary>
internal sealed class EndpointsDemo(int endpoints, string? down, int count, IReadOnlyDictionary<string, string?> settings, TimeSpan deadline)
    : IWebhookDeliveryListener
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, int> _delivered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _breakerOpens = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string[] _up = [];

    /// <summary>The endpoints' names: <c>default</c>, then <c>endpoint-2</c>, <c>endpoint-3</c>, ...</summary>
    public static string[] Names(int endpoints) =>
        [WebhookEndpointNames.Default, .. Enumerable.Range(2, Math.Max(0, endpoints - 1)).Select(i => $"endpoint-{i}")];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var names = Names(endpoints);
        _up = [.. names.Where(n => n != down)];
        var receivers = new Dictionary<string, LocalReceiver>(StringComparer.Ordinal);
        var configuration = new Dictionary<string, string?>(settings);
        try
        {
            foreach (var name in names)
            {
                var secret = $"demo-{name}-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                var behaviour = name == down ? new ReceiverBehaviour(DownFor: TimeSpan.FromDays(1)) : ReceiverBehaviour.Normal;
                var receiver = await LocalReceiver.StartAsync(secret, 0, behaviour, _ => { }, cancellationToken);
                receivers[name] = receiver;
                var section = name == WebhookEndpointNames.Default
                    ? HokusaiWebhookOptions.SectionName
                    : $"{HokusaiWebhookOptions.SectionName}:{WebhookEndpointNames.SectionKey}:{name}";
                configuration[$"{section}:Url"] = receiver.WebhookUrl.ToString();
                configuration[$"{section}:Secret"] = secret;
                AnsiConsole.MarkupLine($"[bold]{name,-11}[/] {receiver.WebhookUrl} queue {WebhookEndpointNames.QueueOf(name)}, its own secret"
                    + (name == down ? " [red](down: 503 to everything, --down)[/]" : ""));
            }

            using var host = DemoHost.Build(configuration, this);
            await host.StartAsync(cancellationToken);
            var finished = true;
            try
            {
                var bus = host.Services.GetRequiredService<IBus>();
                _clock.Restart();
                foreach (var registration in DemoPayloads.Take(count))
                {
                    var sent = await bus.PublishModelRegistered(registration, cancellationToken: cancellationToken);
                    Line("blue", "publish", "-", $"{sent.ModelId} key {sent.IdempotencyKey}");
                }

                Release();
                try
                {
                    await _done.Task.WaitAsync(deadline, cancellationToken);
                }
                catch (TimeoutException)
                {
                    finished = false;
                    Line("red", "deadline", "-", $"not every up endpoint got every registration within {Terminal.Seconds(deadline)} s (--deadline)");
                }
            }
            finally
            {
                await DemoHost.StopAsync(host);
            }

            var table = new Table().Title("Endpoints").AddColumns("endpoint", "queue", "delivered", "attempts", "breaker opens", "receiver processed");
            foreach (var name in names)
            {
                table.AddRow(name, WebhookEndpointNames.QueueOf(name), $"{_delivered.GetValueOrDefault(name)} of {count}",
                    $"{_attempts.GetValueOrDefault(name)}", $"{_breakerOpens.GetValueOrDefault(name)}", $"{receivers[name].Delivered}");
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(down is null
                ? $"Every endpoint got all {count}."
                : $"Every endpoint but {down} got all {count}; {down} was down the whole time and delayed none of them "
                  + $"(its {count - _delivered.GetValueOrDefault(down)} wait in its own queue; with RabbitMQ they are delivered when it is back).");
            return finished ? ExitCodes.Success : ExitCodes.Failure;
        }
        finally
        {
            foreach (var receiver in receivers.Values)
            {
                await receiver.DisposeAsync();
            }
        }
    }

    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        switch (deliveryEvent)
        {
            case WebhookAttemptFinished attempt:
                _attempts.AddOrUpdate(attempt.Endpoint, 1, (_, n) => n + 1);
                Line(attempt.Kind == WebhookAttemptKind.Accepted ? "green" : "red", "attempt", attempt.Endpoint,
                    $"#{attempt.Attempt}: {attempt.Outcome}{(attempt.IsTrial ? " (breaker trial)" : "")}");
                break;
            case WebhookBreakerChanged changed:
                if (changed.To == WebhookCircuitState.Open)
                {
                    _breakerOpens.AddOrUpdate(changed.Endpoint, 1, (_, n) => n + 1);
                }

                Line(changed.To == WebhookCircuitState.Closed ? "green" : "red", "breaker", changed.Endpoint, $"{changed.From} -> {changed.To}");
                break;
            case WebhookDelivered delivered:
                _delivered.AddOrUpdate(delivered.Endpoint, 1, (_, n) => n + 1);
                Line("green", "delivered", delivered.Endpoint, $"key {delivered.IdempotencyKey} after {delivered.Attempts} attempt(s)");
                Release();
                break;
        }
    }

    private void Release()
    {
        if (_up.Length > 0 && _up.All(name => _delivered.GetValueOrDefault(name) >= count))
        {
            _done.TrySetResult();
        }
    }

    private void Line(string color, string what, string endpoint, string text)
    {
        var at = _clock.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            AnsiConsole.MarkupLine($"[grey]+{at}s[/] [{color}]{what,-9}[/] {Markup.Escape(endpoint),-11} {Markup.Escape(text)}");
        }
    }
}
