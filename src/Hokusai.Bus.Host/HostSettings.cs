using MassTransit;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Host;

/// <summary>
/// The integration guide's environment variables, in the one place that knows them: each is mapped onto the plugin's
/// configuration key (<c>WEBHOOK_TIMEOUT</c> onto <c>Hokusai:Webhook:Timeout</c>, <c>RABBITMQ_QUORUM_QUEUES</c> onto
/// <c>Hokusai:QuorumQueues</c>), the host's own (<c>RABBITMQ_URL</c>, <c>RABBITMQ_PASSWORD</c>) are read here, and every
/// bad setting is reported at once under the name it was given by (exit 2). A guide variable wins over the same key set
/// another way.
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
    ];

    /// <summary>The secrets that may also come from a file, <c>&lt;NAME&gt;_FILE</c> (the Docker and Kubernetes secrets convention).</summary>
    private static readonly string[] SecretVariables =
        ["WEBHOOK_SECRET", "WEBHOOK_ROTATION_SECRETS", "REDIS_PASSWORD", "RABBITMQ_PASSWORD", "INGEST_SECRET", "INGEST_ROTATION_SECRETS"];

    private readonly IConfiguration _configuration;
    private readonly List<string> _errors = [];

    /// <summary>The secrets read from files, by variable: a failure about one names its <c>_FILE</c> variable.</summary>
    private readonly HashSet<string> _fromFiles = [];

    /// <summary>The secrets whose <c>_FILE</c> could not be read: that failure says it all, not "X is required" too.</summary>
    private readonly HashSet<string> _unreadableFiles = [];

    private HostSettings(IConfiguration configuration) => _configuration = configuration;

    /// <summary><c>ENABLE_REDIS_FALLBACK</c> (key <c>Hokusai:Redis:Enabled</c>): also feed the legacy Redis list and channel.</summary>
    public bool RedisFallback { get; private set; }

    /// <summary><c>INGEST_SECRET</c> and the rest of <c>INGEST_*</c>: <c>POST /ingest</c>, on when a secret is set.</summary>
    public Hokusai.Bus.Host.Ingest.IngestOptions Ingest { get; private set; } = new();

    /// <summary><c>RABBITMQ_URL</c> (one node or a cluster's) with <c>RABBITMQ_PASSWORD</c>, checked. Default <c>amqp://guest:guest@localhost:5672/</c>.</summary>
    public RabbitMqBroker RabbitMq { get; private set; } = RabbitMqBroker.Default;

    /// <summary>
    /// Maps the guide's variables in <paramref name="configuration"/> onto the plugin's keys (as a source added last,
    /// so they win) and reads the host's own settings; what does not parse is kept for <see cref="Failures"/>.
    /// </summary>
    public static HostSettings Apply(IConfigurationManager configuration)
    {
        var settings = new HostSettings(configuration);
        configuration.AddInMemoryCollection(settings.ReadSecretFiles());
        var mapped = Variables
            .Where(v => configuration[v.Variable] is not null)
            .Select(v => KeyValuePair.Create(v.Key, configuration[v.Variable]));
        configuration.AddInMemoryCollection(mapped.ToList());

        var rabbitPassword = configuration["RABBITMQ_PASSWORD"] is { Length: > 0 } password ? password : null;
        if (RabbitMqBroker.TryParse(configuration["RABBITMQ_URL"] ?? "amqp://guest:guest@localhost:5672/", rabbitPassword, out var broker))
        {
            settings.RabbitMq = broker;
        }
        else
        {
            settings._errors.Add("RABBITMQ_URL must be an absolute amqp:// or amqps:// URL, e.g. amqp://guest:guest@localhost:5672/, "
                + "or for a cluster amqp://user:password@node1:5672,node2:5672,node3:5672/vhost.");
        }
        // RABBITMQ_QUORUM_QUEUES: the plugins declare every queue as a replicated quorum queue (a clustered RabbitMQ).
        const string quorumKey = "Hokusai:QuorumQueues";
        if (!SettingValues.TryParseFlag(configuration[quorumKey], out _))
        {
            settings._errors.Add($"{settings.NameOf(quorumKey)} must be true or false.");
        }

        const string enabledKey = HokusaiRedisOptions.SectionName + ":Enabled";
        if (!SettingValues.TryParseFlag(configuration[enabledKey], out var redis))
        {
            settings._errors.Add($"{settings.NameOf(enabledKey)} must be true or false; got '{Contracts.SafeText.Of(configuration[enabledKey] ?? "", 40)}'.");
        }

        settings.RedisFallback = redis;
        settings.Ingest = Hokusai.Bus.Host.Ingest.IngestOptions.Read(configuration, settings._errors, settings.NameOf);
        return settings;
    }

    /// <summary>
    /// Adds what the settings ask for to the bus: webhook delivery always, the legacy Redis feed when
    /// <c>ENABLE_REDIS_FALLBACK</c> is true (with it false, no Redis consumer, queue or connection exists).
    /// </summary>
    public void AddHokusai(IBusRegistrationConfigurator bus)
    {
        // The plugin's messages and log lines name each setting as it was given: WEBHOOK_MAX_HOLD, not its key.
        bus.AddSingleton(new HokusaiSettingNames(NameOf));
        bus.AddHokusaiWebhooks();
        if (RedisFallback)
        {
            bus.AddHokusaiRedisFallback();
        }
    }

    /// <summary>
    /// Every bad setting, the host's and the plugin's (resolving and so validating each options type registered), each
    /// naming the variable or key to fix; empty when the host may start.
    /// </summary>
    public IReadOnlyList<string> Failures(IServiceProvider services)
    {
        var failures = new List<string>(_errors);
        Validate<HokusaiWebhookOptions>(services, failures, WebhookEndpointNames.In(_configuration));
        Validate<HokusaiRedisOptions>(services, failures);
        return [.. failures.Distinct().Where(f => !_unreadableFiles.Any(v => f.StartsWith(v + " ", StringComparison.Ordinal)))];
    }

    /// <summary>The name a configuration key was set by: the guide's variable, a <c>_FILE</c> variable, or the key's own.</summary>
    public string NameOf(string key)
    {
        foreach (var (variable, mappedKey) in Variables)
        {
            // The guide's variable unless the value came from the key itself (appsettings, Hokusai__Webhook__*).
            if (string.Equals(mappedKey, key, StringComparison.OrdinalIgnoreCase))
            {
                if (_fromFiles.Contains(variable))
                {
                    return variable + "_FILE";
                }

                return _configuration[variable] is not null || _configuration[key] is null ? variable : EnvironmentName(key);
            }
        }

        return EnvironmentName(key);
    }

    private static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// Reads each <c>&lt;NAME&gt;_FILE</c> that is set into <c>&lt;NAME&gt;</c>: the whole file, trailing newlines
    /// trimmed; for <c>WEBHOOK_ROTATION_SECRETS</c> one secret per line or comma-separated. Setting both, or a file
    /// that cannot be read, is a failure naming the variable and the path, never the content.
    /// </summary>
    private Dictionary<string, string?> ReadSecretFiles()
    {
        var values = new Dictionary<string, string?>();
        foreach (var variable in SecretVariables)
        {
            var fileVariable = variable + "_FILE";
            if (_configuration[fileVariable] is not { Length: > 0 } path)
            {
                continue;
            }

            if (!SettingValues.TryReadSecret(variable, _configuration[variable], fileVariable, path, out var text, out var problem))
            {
                _errors.Add(problem);
                if (_configuration[variable] is null)
                {
                    _unreadableFiles.Add(variable); // else it is set twice, and the value itself is checked as usual
                }

                continue;
            }

            values[variable] = variable.EndsWith("_ROTATION_SECRETS", StringComparison.Ordinal)
                ? string.Join(',', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                : text;
            _fromFiles.Add(variable);
        }

        return values;
    }

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
