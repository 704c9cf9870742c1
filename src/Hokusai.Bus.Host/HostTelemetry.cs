using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hokusai.Bus.Host;

/// <summary>
/// The host's metrics and traces. Prometheus <c>/metrics</c> always. OTLP when OpenTelemetry's standard variables name
/// an endpoint (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, or the <c>_METRICS_</c>/<c>_TRACES_</c> ones; the exporter reads
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c> itself): the plugin's metrics,
/// and one trace per registration from MassTransit's receive and consume to every HTTP attempt, whose W3C
/// <c>traceparent</c> goes to the receiver. Off when none is set: no trace is recorded and no <c>traceparent</c> sent.
/// </summary>
internal static class HostTelemetry
{
    /// <summary>MassTransit's ActivitySource.</summary>
    private const string MassTransitSource = "MassTransit";

    private static readonly string[] EndpointVariables =
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];

    public static void AddHostTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = EndpointVariables.Any(v => !string.IsNullOrEmpty(builder.Configuration[v]));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "hokusai-bus-host"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(HokusaiNames.MeterName).AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(MassTransitSource, HokusaiNames.ActivitySourceName, Ingest.IngestEndpoint.ActivitySourceName)
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }
    }
}
