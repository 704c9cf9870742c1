using System.Diagnostics.Metrics;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>
/// The ingest's instruments, on the plugin's meter (so <c>/metrics</c> and OTLP export them with the rest):
/// <c>ingest_accepted{shape}</c>, <c>ingest_refused{reason}</c> and <c>ingest_confirm_duration</c> (publish to RabbitMQ's
/// confirm, seconds).
/// </summary>
internal sealed class IngestMetrics
{
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Histogram<double> _confirm;

    public IngestMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(HokusaiNames.MeterName);
        _accepted = meter.CreateCounter<long>("ingest_accepted", description: "Events POSTed to /ingest and confirmed by RabbitMQ, by shape");
        _refused = meter.CreateCounter<long>("ingest_refused",
            description: "POSTs to /ingest refused, by reason: signature, replay, size, slow_body, malformed, field, event_type, broker, gone");
        _confirm = meter.CreateHistogram<double>("ingest_confirm_duration", "s",
            "From publish to RabbitMQ's confirm, for each accepted registration",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void Accepted(PipelineEventShape shape, TimeSpan confirmedIn)
    {
        var tag = new KeyValuePair<string, object?>("shape", BarePipelineEvent.ShapeName(shape));
        _accepted.Add(1, tag);
        _confirm.Record(confirmedIn.TotalSeconds, tag);
    }

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
