using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Every webhook endpoint of this host: the default one (<c>Hokusai:Webhook</c>) and each named one
/// (<c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c>), each with its validated settings, delivery and breaker.
/// </summary>
internal sealed class WebhookEndpointSet
{
    /// <summary>
    /// Cancelled when the host starts stopping or the bus does (<see cref="BusStopping"/>): a bare service provider, as
    /// in the test harness, has no host lifetime, and waits must still end when the bus stops.
    /// </summary>
    private readonly CancellationTokenSource _stopping;

    public WebhookEndpointSet(
        IOptionsMonitor<HokusaiWebhookOptions> options,
        WebhookHttpSender sender,
        WebhookDeliveryTelemetry telemetry,
        TimeProvider time,
        HokusaiBusMetrics? metrics = null,
        IHostApplicationLifetime? lifetime = null,
        HoldLimit? holdLimit = null,
        IConfiguration? configuration = null,
        BreakerFleet? fleet = null)
    {
        HoldLimit = holdLimit ?? new HoldLimit(time);
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime?.ApplicationStopping ?? CancellationToken.None);
        var stopping = _stopping.Token;
        WebhookEndpoint Create(string name, string optionsName)
        {
            var settings = options.Get(optionsName); // validates: a bad setting throws, naming its key
            var endpointTelemetry = telemetry.For(name);
            var url = WebhookUrl.Redact(settings.Url);
            // A host following another's opening waits one attempt's timeout (the leader's trial) and 2 s more to hear how it went.
            var breaker = new WebhookCircuitBreaker(settings.CircuitBreakerFailureThreshold, settings.CircuitBreakerRecoveryTime,
                time, (from, to) => endpointTelemetry.Write(new WebhookBreakerChanged(url, from, to)),
                followGrace: settings.Timeout + TimeSpan.FromSeconds(2));
            metrics?.Track(name, breaker);
            fleet?.Add(name, breaker);
            return new WebhookEndpoint(name, settings,
                new WebhookDelivery(sender, breaker, endpointTelemetry, settings, time, stopping, HoldLimit), breaker);
        }

        Default = Create(WebhookEndpointNames.Default, Options.DefaultName);
        Named = configuration is null ? [] : [.. WebhookEndpointNames.In(configuration).Select(name => Create(name, name))];
        All = [Default, .. Named];
    }

    /// <summary>
    /// The bus is stopping: every message waiting in the host for a retry or the breaker is handed to RabbitMQ (or the
    /// harness's delayed delivery) with its history at once, instead of holding the stop up for as long as its wait.
    /// </summary>
    public void BusStopping() => _stopping.Cancel();

    /// <summary>The longest any endpoint holds a message, lowered when RabbitMQ times an acknowledgement out.</summary>
    public HoldLimit HoldLimit { get; }

    /// <summary>The guide's endpoint, on <c>hokusai-webhook-delivery</c>.</summary>
    public WebhookEndpoint Default { get; }

    /// <summary>The further endpoints, by name, each on <c>hokusai-webhook-delivery-&lt;name&gt;</c>.</summary>
    public IReadOnlyList<WebhookEndpoint> Named { get; }

    public IReadOnlyList<WebhookEndpoint> All { get; }

    /// <summary>Connections the shared HTTP handler allows per server: every endpoint's concurrency, so none waits for another's.</summary>
    public int TotalConcurrency => All.Sum(e => e.Settings.Concurrency);
}
