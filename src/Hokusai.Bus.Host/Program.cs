// The Hokusai.Bus consumer host: delivers ModelRegistered messages from RabbitMQ as signed webhooks.
// Settings: the guide's variables (WEBHOOK_URL, WEBHOOK_SECRET, ...) and RABBITMQ_URL, mapped in HostSettings; see the
// README's settings table and docs/OPERATIONS.md ("Settings in detail").
using Hokusai.Bus.Host;
using Hokusai.Bus.Host.DeliveryLog;
using Hokusai.Bus.Host.Ingest;
using MassTransit;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

if (args is ["probe", var probeUrl])
{
    return await Probe.RunAsync(probeUrl);
}

var builder = WebApplication.CreateBuilder(args);
var settings = HostSettings.Apply(builder.Configuration);
builder.AddHostLogging(); // our console format; ASP.NET Core's per-request lines at Warning unless set

builder.Services.AddHealthChecks();
builder.Services.AddSingleton<BrokerNode>();
builder.Services.AddMassTransit(bus =>
{
    bus.DisableUsageTelemetry();
    bus.AddReceiveEndpointObserver<BrokerConnection>(); // a connection problem named once, e.g. a wrong password
    // Which of RABBITMQ_URL's nodes each endpoint's channel reached: /health/ready's Hokusai-RabbitMQ-Node header.
    bus.AddConfigureEndpointsCallback((context, _, endpoint) =>
        (endpoint as IRabbitMqReceiveEndpointConfigurator)?.ConfigureChannel(c => c.UseFilter(new BrokerNodeFilter(context.GetRequiredService<BrokerNode>()))));
    settings.AddHokusai(bus); // webhooks, plus the Redis feed when ENABLE_REDIS_FALLBACK=true
    // RABBITMQ_URL's node or nodes; every endpoint's policy (quorum queues too) is in the plugins' definitions.
    bus.UsingRabbitMq((context, rabbit) =>
    {
        settings.RabbitMq.ConfigureHost(rabbit);
        rabbit.ConfigureEndpoints(context);
    });
});
builder.Services.Configure<MassTransitHostOptions>(o =>
{
    // On SIGTERM: stop taking messages, let deliveries in flight finish, then cancel the rest back to the queue.
    o.ConsumerStopTimeout = TimeSpan.FromSeconds(15);
    o.StopTimeout = TimeSpan.FromSeconds(25);
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
builder.AddHostTelemetry(); // Prometheus /metrics; OTLP metrics and traces when OTEL_EXPORTER_OTLP_* is set

var app = builder.Build();
// Settings are checked before anything starts; every bad one is listed, naming its variable.
if (settings.Failures(app.Services) is { Count: > 0 } failures)
{
    Console.Error.WriteLine("Hokusai.Bus.Host cannot start; fix these settings:");
    foreach (var failure in failures)
    {
        Console.Error.WriteLine("  " + failure);
    }

    return 2;
}

app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions
{
    Predicate = check => check.Tags.Contains("ready"),
    ResponseWriter = async (http, report) =>
    {
        http.Response.ContentType = "text/plain";
        http.Response.Headers[BrokerNode.Header] = http.RequestServices.GetRequiredService<BrokerNode>().Current ?? "none";
        await http.Response.WriteAsync(report.Status.ToString());
    },
});
app.MapPrometheusScrapingEndpoint("/metrics");
app.MapHokusaiIngest();
app.MapHokusaiDeliveries(); // GET /deliveries when DELIVERY_LOG_TOKEN is set
await app.RunAsync();
return 0;
