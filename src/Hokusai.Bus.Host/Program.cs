// The Hokusai.Bus consumer host: delivers ModelRegistered messages from RabbitMQ as signed webhooks.
// Settings: the guide's variables (WEBHOOK_URL, WEBHOOK_SECRET, ...) and RABBITMQ_URL; see README.md.
using Hokusai.Bus;
using MassTransit;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;

using Microsoft.Extensions.Options;

if (args is ["probe", var probeUrl])
{
    // Container health check without curl: exit 0 when the URL answers 2xx.
    using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
    try
    {
        return (await probe.GetAsync(probeUrl)).IsSuccessStatusCode ? 0 : 1;
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        return 1;
    }
}

var builder = WebApplication.CreateBuilder(args);
var settingErrors = new List<string>();
var rabbitMq = RabbitMqAddress(builder.Configuration["RABBITMQ_URL"] ?? "amqp://guest:guest@localhost:5672/", settingErrors);
var quorumQueues = string.Equals(builder.Configuration["RABBITMQ_QUORUM_QUEUES"], "true", StringComparison.OrdinalIgnoreCase);

builder.Services.AddHealthChecks();
builder.Services.AddMassTransit(bus =>
{
    bus.DisableUsageTelemetry();
    bus.AddHokusaiBus(builder.Configuration);
    if (quorumQueues)
    {
        // Clustered RabbitMQ: replicated quorum queues (set before the queues are first declared).
        bus.AddConfigureEndpointsCallback((_, _, endpoint) => (endpoint as IRabbitMqReceiveEndpointConfigurator)?.SetQuorumQueue());
    }

    bus.UsingRabbitMq((context, rabbit) =>
    {
        rabbit.Host(rabbitMq);
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
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("Hokusai.Bus")
    .AddPrometheusExporter());

var app = builder.Build();
// Settings are checked before anything starts; every bad one is listed, naming its variable.
Validate<HokusaiWebhookOptions>(app.Services, settingErrors);
if (app.Services.GetService<IConfigureOptions<HokusaiRedisOptions>>() is not null)
{
    Validate<HokusaiRedisOptions>(app.Services, settingErrors);
}

if (settingErrors.Count > 0)
{
    Console.Error.WriteLine("Hokusai.Bus.Host cannot start; fix these settings:");
    settingErrors.ForEach(failure => Console.Error.WriteLine("  " + failure));
    return 2;
}

app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
app.MapPrometheusScrapingEndpoint("/metrics");
await app.RunAsync();
return 0;

static Uri RabbitMqAddress(string value, List<string> errors)
{
    if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "rabbitmq" or "rabbitmqs"
        && !string.IsNullOrEmpty(uri.Host))
    {
        return uri;
    }

    errors.Add("RABBITMQ_URL must be an absolute amqp:// or amqps:// URL, e.g. amqp://guest:guest@localhost:5672/.");
    return new Uri("amqp://localhost/");
}

static void Validate<TOptions>(IServiceProvider services, List<string> errors)
    where TOptions : class
{
    try
    {
        _ = services.GetRequiredService<IOptions<TOptions>>().Value;
    }
    catch (OptionsValidationException invalid)
    {
        errors.AddRange(invalid.Failures);
    }
}
