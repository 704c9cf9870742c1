using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>
/// Every webhook endpoint of this host, each built the same way: the default one (<c>Hokusai:Webhook</c>) and each named
/// one (<c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c>), each with its validated settings (a named endpoint's inherit the
/// default's, from configuration and code alike), delivery, breaker and hold limit. Each is a receive endpoint through
/// its <see cref="WebhookEndpointRegistration"/>.
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
        SettingsReports<HokusaiWebhookOptions> reports,
        HokusaiSettingNames names,
        WebhookHttpSender sender,
        WebhookDeliveryTelemetry telemetry,
        TimeProvider time,
        HokusaiBusMetrics? metrics = null,
        IHostApplicationLifetime? lifetime = null,
        IConfiguration? configuration = null,
        BreakerFleet? fleet = null)
    {
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime?.ApplicationStopping ?? CancellationToken.None);
        var stopping = _stopping.Token;
        WebhookEndpoint Create(string name, string optionsName)
        {
            var settings = options.Get(optionsName); // validates: a bad setting throws, naming it
            var endpointTelemetry = telemetry.For(name);
            var url = WebhookUrl.Redact(settings.Url);
            // A host following another's opening waits one attempt's timeout (the leader's trial) and 2 s more to hear how it went.
            var breaker = new WebhookCircuitBreaker(settings.CircuitBreakerFailureThreshold, settings.CircuitBreakerRecoveryTime,
                time, (from, to) => endpointTelemetry.Write(new WebhookBreakerChanged(url, from, to)),
                followGrace: settings.Timeout + TimeSpan.FromSeconds(2));
            metrics?.Track(name, breaker);
            fleet?.Add(name, breaker);
            var holdLimit = new HoldLimit(time);
            var report = reports.Of(optionsName);
            return new WebhookEndpoint(name, settings,
                new WebhookDelivery(sender, breaker, endpointTelemetry, settings, time, stopping, holdLimit), breaker, holdLimit,
                member => report.NameOf(member, $"{WebhookEndpointNames.SectionOf(optionsName)}:{member}", names));
        }

        Default = Create(WebhookEndpointNames.Default, Options.DefaultName);
        var named = configuration is null ? [] : WebhookEndpointNames.In(configuration);
        if (named.Count >= MaxEndpoints)
        {
            throw new OptionsValidationException(HokusaiWebhookOptions.SectionName, typeof(HokusaiWebhookOptions),
                [$"{names.Of($"{HokusaiWebhookOptions.SectionName}:{WebhookEndpointNames.SectionKey}")} names {named.Count} endpoints; "
                 + $"a host delivers to at most {MaxEndpoints - 1} besides the default one."]);
        }

        All = [Default, .. named.Select(name => Create(name, name))];
    }

    /// <summary>The most webhook endpoints one host has, the default one included.</summary>
    public const int MaxEndpoints = 64;

    /// <summary>
    /// The bus is stopping: every message waiting in the host for a retry or the breaker is handed to RabbitMQ (or the
    /// harness's delayed delivery) with its history at once, instead of holding the stop up for as long as its wait.
    /// </summary>
    public void BusStopping() => _stopping.Cancel();

    /// <summary>The guide's endpoint, on <c>hokusai-webhook-delivery</c>.</summary>
    public WebhookEndpoint Default { get; }

    /// <summary>Every endpoint, the default first, then the named ones by name, each on its own queue.</summary>
    public IReadOnlyList<WebhookEndpoint> All { get; }

    /// <summary>The endpoint that consumes <paramref name="queue"/>, or null.</summary>
    public WebhookEndpoint? ByQueue(string queue) => All.FirstOrDefault(e => e.Queue == queue);

    /// <summary>Connections the shared HTTP handler allows per server: every endpoint's concurrency, so none waits for another's.</summary>
    public int TotalConcurrency => All.Sum(e => e.Settings.Concurrency);
}
