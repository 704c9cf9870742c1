using RabbitMQ.Client;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// Moves the selected dead letters back to their queue over AMQP, one at a time: each is copied to the queue (persistent,
/// same properties and headers, <c>mandatory</c>) and acknowledged in <c>_error</c> only after the broker confirmed the
/// copy, so a failure half-way loses nothing. The others are taken once each, held unacknowledged, and given back
/// (requeued) at the end: nothing else is consumed. Only the messages in the queue when it starts are looked at.
/// </summary>
internal static class SelectiveReplay
{
    public sealed record Result(int Looked, int Moved, int Left, IReadOnlyList<(byte[] Body, Func<string, string?> Field, DateTimeOffset At)> MovedBodies);

    public static async Task<Result> RunAsync(
        Uri amqp, string error, string source, DeadLetterSelection selection, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = amqp, ClientProvidedName = "hokusai-bus dead-letters replay" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var taking = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        // Tracking on: each publish completes once the broker confirmed it, and a return (no such queue) throws.
        await using var copying = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        await copying.QueueDeclarePassiveAsync(source, cancellationToken);

        var total = (await taking.QueueDeclarePassiveAsync(error, cancellationToken)).MessageCount;
        var kept = new List<ulong>();
        var movedBodies = new List<(byte[], Func<string, string?>, DateTimeOffset)>();
        var moved = 0;
        var looked = 0;
        for (; looked < total; looked++)
        {
            if (await taking.BasicGetAsync(error, autoAck: false, cancellationToken) is not { } message)
            {
                break;
            }

            var body = message.Body.ToArray();
            var field = DeadLetterSelection.Fields(message.BasicProperties);
            if (moved < (selection.Limit ?? int.MaxValue) && selection.Matches(body, field))
            {
                var at = DateTimeOffset.UtcNow; // before the copy: the replay comes before what the copy leads to
                var properties = new BasicProperties(message.BasicProperties) { Persistent = true };
                await copying.BasicPublishAsync("", source, mandatory: true, properties, message.Body, cancellationToken);
                await taking.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
                movedBodies.Add((body, field, at));
                moved++;
            }
            else
            {
                kept.Add(message.DeliveryTag);
            }
        }

        foreach (var tag in kept)
        {
            await taking.BasicNackAsync(tag, multiple: false, requeue: true, cancellationToken);
        }

        await taking.CloseAsync(cancellationToken);
        return new Result(looked, moved, kept.Count, movedBodies);
    }
}
