using Hokusai.Bus.Operations.DeliveryLog;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit;

namespace Hokusai.Bus.Tests.DeliveryLog;

/// <summary>
/// The delivery log's writer never holds up a delivery: with the broker unreachable or hanging, every write returns at
/// once, and every record that is not written is counted, including what is still buffered when the host stops.
/// </summary>
public sealed class DeliveryLogWriterTests
{
    private static DeliveryRecord Record(int i) => new()
    {
        Kind = DeliveryRecordKind.Delivered, At = DateTimeOffset.UnixEpoch, Key = $"key-{i}", Endpoint = "default", Host = "h",
    };

    [Fact]
    public async Task A_broker_that_never_answers_costs_a_write_nothing_and_every_record_is_counted_as_dropped()
    {
        var connecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new DeliveryLogWriter(async token =>
        {
            connecting.TrySetResult();
            await Task.Delay(Timeout.Infinite, token); // a black-holed broker: the connection never opens
            throw new InvalidOperationException("unreachable");
        }, new DeliveryLogStream(), capacity: 1_000);

        // Each call returns without waiting: the buffer takes what it can hold and refuses the rest at once.
        var accepted = Enumerable.Range(0, 5_000).Count(i => writer.TryWrite(Record(i)));
        await connecting.Task;

        Assert.InRange(accepted, 1_000, 1_000 + DeliveryLogWriter.BatchSize); // the loop may hold one batch in hand
        Assert.Equal(5_000 - accepted, writer.Dropped);

        await writer.FlushAndStopAsync(TimeSpan.Zero);
        Assert.Equal(5_000, writer.Dropped); // what was buffered at the stop is dropped too, and counted
        Assert.Equal(0, writer.Written);
        Assert.False(writer.TryWrite(Record(0)));
        Assert.Equal(5_001, writer.Dropped);
    }

    [Fact]
    public async Task A_broker_that_refuses_is_reported_once_and_what_it_refused_is_counted()
    {
        var problems = new List<string>();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new DeliveryLogWriter(
            _ => Task.FromException<IConnection>(new BrokerUnreachableException(new InvalidOperationException("amqp://user:s3cret@node"))),
            new DeliveryLogStream(),
            problem =>
            {
                lock (problems)
                {
                    problems.Add(problem);
                }

                reported.TrySetResult();
            });

        for (var i = 0; i < 3; i++)
        {
            Assert.True(writer.TryWrite(Record(i)));
        }

        await reported.Task;
        for (var i = 3; i < 600; i++)
        {
            writer.TryWrite(Record(i));
        }

        await writer.FlushAndStopAsync(TimeSpan.Zero);

        Assert.Equal(600, writer.Dropped);
        var problem = Assert.Single(problems);
        Assert.Contains("3 delivery record(s) were not written to hokusai-delivery-log: the broker cannot be reached", problem);
        Assert.DoesNotContain("s3cret", problem);
    }
}
