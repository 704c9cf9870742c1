namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>How a record reads in a timeline, the CLI's and the page's alike.</summary>
public static class DeliveryRecordText
{
    /// <summary>What happened: <c>attempt 2 (trial)</c>, <c>waits in RabbitMQ</c>, <c>to _error</c>, …</summary>
    public static string What(DeliveryRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Kind switch
        {
            DeliveryRecordKind.Attempt => $"attempt {record.Attempt}{(record.Trial == true ? " (trial)" : "")}",
            DeliveryRecordKind.RetryScheduled => "retry scheduled",
            DeliveryRecordKind.Deferred => "waits in RabbitMQ",
            DeliveryRecordKind.Failed => "to _error",
            DeliveryRecordKind.Replayed => "replayed from _error",
            _ => record.Kind.ToString().ToLowerInvariant(),
        };
    }

    /// <summary>What else it says, in one line: the outcome and latency, the next try, the reason.</summary>
    public static string Detail(DeliveryRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Kind switch
        {
            DeliveryRecordKind.Attempt => $"{record.Outcome} in {record.LatencyMs:0.#} ms",
            DeliveryRecordKind.RetryScheduled => $"attempt {record.Attempt} at {record.NextAt:HH:mm:ss}",
            DeliveryRecordKind.Deferred => $"until {record.NextAt:HH:mm:ss}; {record.Reason}",
            DeliveryRecordKind.Delivered => $"after {record.Attempts} attempt(s)",
            DeliveryRecordKind.Failed => $"after {record.Attempts} attempt(s): {record.Reason}",
            DeliveryRecordKind.Accepted => "at /ingest",
            _ => record.Reason ?? "",
        };
    }
}
