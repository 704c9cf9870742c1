using System.Text;
using Hokusai.Bus.Operations.DeliveryLog;
using Xunit;

namespace Hokusai.Bus.Tests.DeliveryLog;

/// <summary>
/// A delivery accepted at an attempt is stored as one record (the outcome holding its attempt) and read back as the
/// two the timeline shows: the attempt with its status and latency, then the outcome.
/// </summary>
public sealed class DeliveryRecordTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_delivered_record_holding_its_attempt_reads_as_the_attempt_then_the_outcome()
    {
        var stored = new DeliveryRecord
        {
            Kind = DeliveryRecordKind.Delivered, At = At, Key = "k1", ModelId = "m1", Endpoint = "default", Host = "h/1",
            Attempt = 3, Status = 200, Outcome = "HTTP 200 (OK)", LatencyMs = 4.2, Trial = false, Attempts = 3,
        };
        var failed = new DeliveryRecord
        {
            Kind = DeliveryRecordKind.Attempt, At = At.AddSeconds(-1), Key = "k1", Endpoint = "default", Host = "h/1",
            Attempt = 2, Status = 503, Outcome = "HTTP 503 (ServiceUnavailable)", LatencyMs = 2, Trial = false,
        };

        var read = DeliveryRecord.AllIn(Lines(failed, stored)).ToList();

        Assert.Equal([DeliveryRecordKind.Attempt, DeliveryRecordKind.Attempt, DeliveryRecordKind.Delivered], read.Select(r => r.Kind));
        Assert.Equal(failed, read[0]);
        Assert.Equal(stored with { Kind = DeliveryRecordKind.Attempt, Attempts = null }, read[1]);
        Assert.Equal(stored with { Attempt = null, Status = null, Outcome = null, LatencyMs = null, Trial = null }, read[2]);
        Assert.Equal(["attempt 3", "delivered"], read.Skip(1).Select(DeliveryRecordText.What));
        Assert.Equal(["HTTP 200 (OK) in 4.2 ms", "after 3 attempt(s)"], read.Skip(1).Select(DeliveryRecordText.Detail));
    }

    [Fact]
    public void A_delivered_record_without_an_attempt_reads_as_itself()
    {
        // As an older host stored it (its accepted attempt in a record of its own), or a record written by hand.
        var stored = new DeliveryRecord { Kind = DeliveryRecordKind.Delivered, At = At, Key = "k2", Attempts = 1, Host = "h/1" };

        Assert.Equal([stored], DeliveryRecord.AllIn(Lines(stored)));
    }

    private static ReadOnlyMemory<byte> Lines(params DeliveryRecord[] records) =>
        Encoding.UTF8.GetBytes(string.Join("\n", records.Select(r => Encoding.UTF8.GetString(r.ToUtf8()))));
}
