using Hokusai.Bus.Operations.DeliveryLog;
using RabbitMQ.Client;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// Writes a <c>replayed</c> record to the delivery log for each dead letter <c>dead-letters replay</c> moved, so each
/// delivery's timeline shows the replay between its failure and its next attempt. The log is best effort here as on the
/// host: a record that cannot be written is reported, and the replay itself stands.
/// </summary>
internal static class ReplayRecords
{
    /// <summary>Writes a record for each of <paramref name="moved"/>, at the time it was moved (before its copy was published).</summary>
    public static async Task WriteAsync(Uri amqp, string queue, IEnumerable<(byte[] Body, Func<string, string?> Field, DateTimeOffset At)> moved, CancellationToken cancellationToken)
    {
        string? problem = null;
        await using var writer = new DeliveryLogWriter(
            token => new ConnectionFactory { Uri = amqp, ClientProvidedName = "hokusai-bus dead-letters replay" }.CreateConnectionAsync(token),
            new DeliveryLogStream(), p => problem = p);
        var host = $"hokusai-bus/{Environment.MachineName}";
        foreach (var (body, field, at) in moved)
        {
            var (key, modelId, eventType) = DeadLetterSelection.Describe(body, field);
            if (key is not null)
            {
                writer.TryWrite(new DeliveryRecord
                {
                    Kind = DeliveryRecordKind.Replayed, At = at, Key = key, ModelId = modelId, EventType = eventType,
                    Endpoint = EndpointOf(queue), Host = host,
                });
            }
        }

        await writer.FlushAndStopAsync(TimeSpan.FromSeconds(10));
        if (problem is not null || writer.Dropped > 0)
        {
            Console.Error.WriteLine($"Note: {writer.Dropped} replay record(s) were not written to the delivery log ({problem ?? "not confirmed in time"}).");
        }
    }

    /// <summary>The endpoint a delivery queue serves: <c>default</c>, a named endpoint's name, or else the queue's own name.</summary>
    public static string EndpointOf(string queue) =>
        queue == HokusaiQueues.WebhookDelivery ? WebhookEndpointNames.Default
        : queue.StartsWith(HokusaiQueues.WebhookDelivery + "-", StringComparison.Ordinal) ? queue[(HokusaiQueues.WebhookDelivery.Length + 1)..]
        : queue;
}
