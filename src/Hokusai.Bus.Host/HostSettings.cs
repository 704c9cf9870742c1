using Hokusai.Bus.Host.DeliveryLog;
using Hokusai.Bus.Host.Ingest;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host;

/// <summary>
/// The integration guide's environment variables, in the one place that knows them: each is mapped onto the plugin's
/// configuration key (<c>WEBHOOK_TIMEOUT</c> onto <c>Hokusai:Webhook:Timeout</c>, <c>RABBITMQ_QUORUM_QUEUES</c> onto
/// <c>Hokusai:QuorumQueues</c>, <c>WEBHOOK_SECRET_FILE</c> onto <c>Hokusai:Webhook:SecretFile</c>), the host's own
/// (<c>RABBITMQ_URL</c>, <c>RABBITMQ_PASSWORD</c>, <c>ENABLE_REDIS_FALLBACK</c>) are read here with the plugins' one
/// <see cref="SettingsBinder"/>, and every bad setting is reported at once under the name it was given by (exit 2). A
/// guide variable wins over the same key set another way.
/// </summary>
public sealed class HostSettings
{
    private static readonly (string Variable, string Key)[] Variables =
    [
        ("WEBHOOK_URL", "Hokusai:Webhook:Url"),
        ("WEBHOOK_SECRET", "Hokusai:Webhook:Secret"),
        ("WEBHOOK_TIMEOUT", "Hokusai:Webhook:Timeout"),
        ("WEBHOOK_MAX_RETRIES", "Hokusai:Webhook:MaxRetries"),
        ("WEBHOOK_RETRY_DELAY", "Hokusai:Webhook:RetryDelay"),
        ("WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "Hokusai:Webhook:CircuitBreakerFailureThreshold"),
        ("WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "Hokusai:Webhook:CircuitBreakerRecoveryTime"),
        ("WEBHOOK_CONCURRENCY", "Hokusai:Webhook:Concurrency"),
        ("WEBHOOK_MAX_HOLD", "Hokusai:Webhook:MaxHold"),
        ("WEBHOOK_SIGNATURE_FORMAT", "Hokusai:Webhook:SignatureFormat"),
        ("WEBHOOK_PAYLOAD_FORMAT", "Hokusai:Webhook:PayloadFormat"),
        ("WEBHOOK_STANDARD_SIGNATURES", "Hokusai:Webhook:StandardSignatures"),
        ("WEBHOOK_ROTATION_SECRETS", "Hokusai:Webhook:RotationSecrets"),
        ("WEBHOOK_ALLOW_HTTP", "Hokusai:Webhook:AllowHttp"),
        ("WEBHOOK_EVENT_TYPES", "Hokusai:Webhook:EventTypes"),
        ("ENABLE_REDIS_FALLBACK", "Hokusai:Redis:Enabled"),
        ("REDIS_URL", "Hokusai:Redis:Url"),
        ("REDIS_PASSWORD", "Hokusai:Redis:Password"),
        ("REDIS_CHANNEL", "Hokusai:Redis:Channel"),
        ("REDIS_LIST_ENABLED", "Hokusai:Redis:ListEnabled"),
        ("REDIS_LIST_KEY", "Hokusai:Redis:ListKey"),
        ("REDIS_MAX_RETRIES", "Hokusai:Redis:MaxRetries"),
        ("REDIS_RETRY_DELAY", "Hokusai:Redis:RetryDelay"),
        ("REDIS_CONCURRENCY", "Hokusai:Redis:Concurrency"),
        ("REDIS_DEDUP_TTL", "Hokusai:Redis:DedupTtl"),
        ("REDIS_MESSAGE_FORMAT", "Hokusai:Redis:MessageFormat"),
        ("RABBITMQ_QUORUM_QUEUES", "Hokusai:QuorumQueues"),
        ("INGEST_SECRET", "Hokusai:Ingest:Secret"),
        ("INGEST_ROTATION_SECRETS", "Hokusai:Ingest:RotationSecrets"),
        ("INGEST_MAX_BODY_BYTES", "Hokusai:Ingest:MaxBodyBytes"),
        ("INGEST_BODY_TIMEOUT", "Hokusai:Ingest:BodyTimeout"),
        ("DELIVERY_LOG", "Hokusai:DeliveryLog:Enabled"),
        ("DELIVERY_LOG_MAX_AGE", "Hokusai:DeliveryLog:MaxAge"),
        ("DELIVERY_LOG_MAX_BYTES", "Hokusai:DeliveryLog:MaxBytes"),
        ("DELIVERY_LOG_TOKEN", "Hokusai:DeliveryLog:Token"),
        ("DELIVERY_LOG_TOKEN_FILE", "Hokusai:DeliveryLog:TokenFile"),
        ("RABBITMQ_URL", RabbitMqSection + ":Url"),
        ("RABBITMQ_PASSWORD", RabbitMqSection + ":Password"),
        // Secrets from files (the Docker and Kubernetes convention), read by the one binder (SettingsBinder.SecretOrFile).
        ("WEBHOOK_SECRET_FILE", "Hokusai:Webhook:SecretFile"),
        ("WEBHOOK_ROTATION_SECRETS_FILE", "Hokusai:Webhook:RotationSecretsFile"),
        ("REDIS_PASSWORD_FILE", "Hokusai:Redis:PasswordFile"),
        ("RABBITMQ_PASSWORD_FILE", RabbitMqSection + ":PasswordFile"),
        ("INGEST_SECRET_FILE", "Hokusai:Ingest:SecretFile"),
        ("INGEST_ROTATION_SECRETS_FILE", "Hokusai:Ingest:RotationSecretsFile"),
    ];

    /// <summary>The host's own section for RabbitMQ, which <c>RABBITMQ_URL</c> and <c>RABBITMQ_PASSWORD</c> map onto.</summary>
    private const string RabbitMqSection = "Hokusai:RabbitMq";

    private readonly IConfiguration _configuration;

    /// <summary>The keys <c>DELTAONE_WEBHOOK_ENDPOINTS</c> was mapped onto, each with its entry's name (<c>DELTAONE_WEBHOOK_ENDPOINTS[0].url</c>).</summary>
    private Dictionary<string, string> _deltaOneNames = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What the host's own settings (RabbitMQ, the Redis switch, quorum queues) were read from, and what did not parse.</summary>
    private readonly SettingsReport _report = new();

    private HostSettings(IConfiguration configuration) => _configuration = configuration;

    /// <summary><c>ENABLE_REDIS_FALLBACK</c> (key <c>Hokusai:Redis:Enabled</c>): also feed the legacy Redis list and channel.</summary>
    public bool RedisFallback { get; private set; }

    /// <summary><c>RABBITMQ_URL</c> (one node or a cluster's) with <c>RABBITMQ_PASSWORD</c>, checked. Default <c>amqp://guest:guest@localhost:5672/</c>.</summary>
    public RabbitMqBroker RabbitMq { get; private set; } = RabbitMqBroker.Default;

    /// <summary>How the plugins' messages and this host's name a setting: by the variable the user set (<see cref="NameOf"/>).</summary>
    public HokusaiSettingNames Names => new(NameOf);

    /// <summary>
    /// Maps the guide's variables in <paramref name="configuration"/> onto the plugins' keys (as a source added last,
    /// so they win; a <c>&lt;NAME&gt;_FILE</c> onto the key's file form, which the one binder reads) and reads the host's
    /// own settings with that binder; what does not parse is kept for <see cref="Failures"/>.
    /// </summary>
    public static HostSettings Apply(IConfigurationManager configuration)
    {
        var settings = new HostSettings(configuration);
        var mapped = Variables
            .Where(v => configuration[v.Variable] is not null)
            .Select(v => KeyValuePair.Create(v.Key, configuration[v.Variable]));
        configuration.AddInMemoryCollection(mapped.ToList());
        if (configuration[DeltaOneEndpoints.Variable] is { } deltaOne)
        {
            // The pipeline's own setting: each active entry becomes a named endpoint.
            var (keys, names, errors) = DeltaOneEndpoints.Read(deltaOne);
            configuration.AddInMemoryCollection(keys);
            settings._deltaOneNames = names;
            foreach (var error in errors)
            {
                settings._report.Fail($"{DeltaOneEndpoints.Variable}:{settings._report.Errors.Count}", error);
            }
        }

        var read = new SettingsBinder(configuration.GetSection("Hokusai"), settings.Names, settings._report);
        // RABBITMQ_QUORUM_QUEUES: the plugins declare every queue as a replicated quorum queue (a clustered RabbitMQ).
        read.Flag("QuorumQueues", _ => { });
        read.Flag("Redis:Enabled", enabled => settings.RedisFallback = enabled);

        var rabbit = new SettingsBinder(configuration.GetSection(RabbitMqSection), settings.Names, settings._report);
        var (url, password) = ("amqp://guest:guest@localhost:5672/", (string?)null);
        rabbit.String("Url", v => url = v);
        rabbit.SecretOrFile("Password", v => password = v.Length > 0 ? v : null);
        if (RabbitMqBroker.TryParse(url, password, out var broker))
        {
            settings.RabbitMq = broker;
        }
        else
        {
            rabbit.Fail("Url", $"{rabbit.NameOf("Url")} must be an absolute amqp:// or amqps:// URL, e.g. amqp://guest:guest@localhost:5672/, "
                + "or for a cluster amqp://user:password@node1:5672,node2:5672,node3:5672/vhost.");
        }

        return settings;
    }

    /// <summary>
    /// Adds what the settings ask for to the bus: webhook delivery always, the legacy Redis feed when
    /// <c>ENABLE_REDIS_FALLBACK</c> is true (with it false, no Redis consumer, queue or connection exists), and the
    /// settings of <c>POST /ingest</c> (mapped only when <c>INGEST_SECRET</c> is set), and the delivery log.
    /// </summary>
    public void AddHokusai(IBusRegistrationConfigurator bus)
    {
        // The plugin's messages and log lines name each setting as it was given: WEBHOOK_MAX_HOLD, not its key.
        bus.AddSingleton(Names);
        bus.AddSingleton(this);
        bus.AddHokusaiWebhooks();
        bus.AddHokusaiIngest();
        bus.AddHokusaiDeliveryLog();
        if (RedisFallback)
        {
            bus.AddHokusaiRedisFallback();
        }
    }

    /// <summary>
    /// Every bad setting, the host's and the plugins' (resolving and so validating each options type registered), each
    /// naming the variable or key to fix; empty when the host may start.
    /// </summary>
    public IReadOnlyList<string> Failures(IServiceProvider services)
    {
        var failures = new List<string>(_report.Errors.Values);
        Validate<HokusaiWebhookOptions>(services, failures, WebhookEndpointNames.In(_configuration));
        Validate<HokusaiRedisOptions>(services, failures);
        Validate<IngestOptions>(services, failures);
        Validate<DeliveryLog.DeliveryLogOptions>(services, failures);
        return [.. failures.Distinct()];
    }

    /// <summary>The name a configuration key was set by: the guide's variable (or its <c>_FILE</c> form), or the key's own.</summary>
    public string NameOf(string key)
    {
        if (_deltaOneNames.TryGetValue(key, out var entry))
        {
            return entry;
        }

        foreach (var (variable, mappedKey) in Variables)
        {
            // The guide's variable unless the value came from the key itself (appsettings, Hokusai__Webhook__*).
            if (string.Equals(mappedKey, key, StringComparison.OrdinalIgnoreCase))
            {
                return _configuration[variable] is not null || _configuration[key] is null ? variable : EnvironmentName(key);
            }
        }

        return EnvironmentName(key);
    }

    private static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Resolves (and so validates) the default options and each named one, collecting every failure.</summary>
    private static void Validate<TOptions>(IServiceProvider services, List<string> failures, IEnumerable<string>? names = null)
        where TOptions : class
    {
        if (services.GetService<IConfigureOptions<TOptions>>() is null)
        {
            return; // Not added (the Redis fallback when it is off).
        }

        var monitor = services.GetRequiredService<IOptionsMonitor<TOptions>>();
        foreach (var name in (IEnumerable<string>)[Options.DefaultName, .. names ?? []])
        {
            try
            {
                _ = monitor.Get(name);
            }
            catch (OptionsValidationException invalid)
            {
                failures.AddRange(invalid.Failures);
            }
        }
    }
}
