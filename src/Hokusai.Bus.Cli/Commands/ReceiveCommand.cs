using System.CommandLine;
using Hokusai.Bus.Cli.Receiving;
using Spectre.Console;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>receive</c>: a local receiver built with Hokusai.Bus.Receiver that takes every shape the host delivers (the
/// guide's registration, the MLflow event, the DeltaOne events), verifies, de-duplicates and prints each delivery, and
/// can fail on purpose to show the sender's retries.
/// </summary>
internal static class ReceiveCommand
{
    private static readonly Lock ConsoleGate = new();

    public static Command Create()
    {
        var port = CommonOptions.Int("--port", "Listen on 127.0.0.1 at this port; 0 picks a free one.", 8080, 0, 65535);
        var secret = CommonOptions.Secret("The sender's WEBHOOK_SECRET (that variable is used when this is omitted).");
        var failFirst = CommonOptions.Int("--fail-first", "Answer 500 to the first N webhook requests, before looking at them.", 0, 0, 1_000_000);
        var status = CommonOptions.Int("--status", "Answer this status instead of 200 to deliveries (after verifying and de-duplicating), e.g. 503.", 200, 100, 599);
        var delay = CommonOptions.Seconds("--delay", "Wait this long before answering each webhook request (try WEBHOOK_TIMEOUT).", 0);
        var downFor = CommonOptions.Seconds("--down-for", "Answer 503 to every webhook request for this long after starting.", 0);
        var max = CommonOptions.Int("--max", "Exit after this many verified deliveries (new or duplicate); 0: run until Ctrl+C or SIGTERM.", 0, 0, int.MaxValue);

        var command = new Command("receive", "Run a local webhook receiver on 127.0.0.1 that takes every event the host delivers (guide registrations, MLflow events, DeltaOne events), verifies signatures, de-duplicates by idempotency key and prints each delivery.")
        {
            port, secret, failFirst, status, delay, downFor, max,
        };
        CommonOptions.RequireSecret(command, secret);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var limit = parseResult.GetValue(max);
            var answer = parseResult.GetValue(status);
            var behaviour = new ReceiverBehaviour(
                parseResult.GetValue(failFirst),
                parseResult.GetSeconds(downFor),
                answer == 200 ? null : answer,
                parseResult.GetSeconds(delay));

            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var verified = 0;
            void OnReceipt(Receipt receipt)
            {
                Print(receipt);
                if (receipt.Kind is ReceiptKind.Delivered or ReceiptKind.Duplicate
                    && Interlocked.Increment(ref verified) >= limit && limit > 0)
                {
                    enough.TrySetResult();
                }
            }

            LocalReceiver receiver;
            try
            {
                receiver = await LocalReceiver.StartAsync(CommonOptions.SecretOf(parseResult, secret),
                    parseResult.GetValue(port), behaviour, OnReceipt, cancellationToken);
            }
            catch (IOException ex)
            {
                Terminal.Error($"cannot listen on 127.0.0.1:{parseResult.GetValue(port)}: {ex.Message}");
                return ExitCodes.Failure;
            }

            await using (receiver)
            {
                lock (ConsoleGate)
                {
                    Console.WriteLine($"Listening on {receiver.WebhookUrl} (any POST path; POST {LocalReceiver.HealthPath} answers 200)");
                    Console.WriteLine(Describe(behaviour, limit));
                }

                try
                {
                    await enough.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: stop listening and say what was received.
                }

                lock (ConsoleGate)
                {
                    Console.WriteLine(
                        $"Stopped after {receiver.Requests} request(s): {receiver.Delivered} delivered, "
                        + $"{receiver.Duplicates} duplicate(s), {receiver.Refused} refused, {receiver.SimulatedFailures} failed on purpose.");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Describe(ReceiverBehaviour behaviour, int limit)
    {
        var parts = new List<string>();
        if (behaviour.FailFirst > 0)
        {
            parts.Add($"answering 500 to the first {behaviour.FailFirst} request(s)");
        }

        if (behaviour.DownFor > TimeSpan.Zero)
        {
            parts.Add($"answering 503 for the first {Terminal.Seconds(behaviour.DownFor)} s");
        }

        if (behaviour.Status is { } status)
        {
            parts.Add($"answering {status} instead of 200");
        }

        if (behaviour.Delay > TimeSpan.Zero)
        {
            parts.Add($"waiting {Terminal.Seconds(behaviour.Delay)} s before each answer");
        }

        parts.Add(limit > 0 ? $"will exit once {limit} verified deliveries have arrived (Ctrl+C to stop sooner)" : "Ctrl+C to stop");
        return char.ToUpperInvariant(parts[0][0]) + string.Join("; ", parts)[1..] + ".";
    }

    private static void Print(Receipt receipt)
    {
        var (word, color) = receipt.Kind switch
        {
            ReceiptKind.Delivered => ("delivered", "green"),
            ReceiptKind.Duplicate => ("duplicate", "yellow"),
            ReceiptKind.Refused => ("refused", "red"),
            ReceiptKind.SimulatedFailure => ("failed", "red"),
            _ => ("down", "red"),
        };
        var line =
            $"[{color}]#{receipt.Number} {word,-9}[/] key={Markup.Escape(receipt.IdempotencyKey ?? "-")} "
            + $"model={Markup.Escape(receipt.ModelId ?? "-")} "
            + $"valid={(receipt.SignatureValid is { } valid ? valid ? "true" : "false" : "-")} "
            + $"duplicate={(receipt.Kind == ReceiptKind.Duplicate ? "true" : "false")} "
            + $"status={receipt.Status} {Markup.Escape(receipt.Detail)}";
        lock (ConsoleGate)
        {
            AnsiConsole.MarkupLine(line);
        }
    }
}
