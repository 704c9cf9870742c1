namespace Hokusai.Bus;

/// <summary>
/// The legacy Redis channel, fed during the migration (phase 1, <c>ENABLE_REDIS_FALLBACK=true</c>). Bound from
/// configuration section <c>Hokusai:Redis</c>; the host maps the variables named in each property's doc onto it.
/// </summary>
public sealed class HokusaiRedisOptions
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Hokusai:Redis";

    /// <summary><c>REDIS_URL</c>: <c>redis://[:password@]host:port[/db]</c> or StackExchange.Redis's <c>host:port,...</c>. Default <c>localhost:6379</c>.</summary>
    public string Url { get; set; } = "localhost:6379";

    /// <summary>
    /// <c>REDIS_PASSWORD</c> (or <c>REDIS_PASSWORD_FILE</c>): the password, kept out of <see cref="Url"/>; when set it
    /// replaces one given there. Default none.
    /// </summary>
    public string? Password { get; set; }

    /// <summary><c>REDIS_CHANNEL</c>: the pub/sub channel the old system used.</summary>
    public string Channel { get; set; } = "hokusai:model_ready_queue:pubsub";

    /// <summary><c>REDIS_LIST_ENABLED</c>: also LPUSH each body to <see cref="ListKey"/>, so a BRPOPLPUSH consumer loses nothing. Default true.</summary>
    public bool ListEnabled { get; set; } = true;

    /// <summary><c>REDIS_LIST_KEY</c>: the reliable list the old system used.</summary>
    public string ListKey { get; set; } = "hokusai:model_ready_queue";

    /// <summary><c>REDIS_MAX_RETRIES</c>: quick retries in the host after a Redis failure; then the message waits in RabbitMQ. Default 8.</summary>
    public int MaxRetries { get; set; } = 8;

    /// <summary><c>REDIS_RETRY_DELAY</c>: the first retry's delay, doubled each time, at most 30 s. Default 0.5 s (about 2 minutes in all).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary><c>REDIS_CONCURRENCY</c>: messages published to Redis at once. Default 8.</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>
    /// <c>REDIS_MESSAGE_FORMAT</c>: <c>legacy</c> (default) writes what the old Redis consumers read: an envelope on the
    /// list, the payload alone on the channel; <c>webhook</c> writes the webhook body on both; <c>token-service</c> the
    /// bare message the token service's consumer validates, on both.
    /// </summary>
    public RedisMessageFormat MessageFormat { get; set; } = RedisMessageFormat.Legacy;

    /// <summary>
    /// <c>REDIS_DEDUP_TTL</c>: how long (seconds) a registration's marker <c>&lt;list&gt;:sent:&lt;idempotency key&gt;</c>
    /// keeps a redelivery from being pushed twice. Default 7 days.
    /// </summary>
    public TimeSpan DedupTtl { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>What the Redis fallback writes.</summary>
public enum RedisMessageFormat
{
    /// <summary>The legacy pipeline's shapes: an envelope on the list, the payload dict on the channel.</summary>
    Legacy,

    /// <summary>The webhook body, byte for byte, on both.</summary>
    Webhook,

    /// <summary>
    /// The bare message the token service's Redis consumer validates (no envelope), on both; a registration that cannot
    /// meet its rules without invented data goes to <c>hokusai-redis-fallback_error</c> naming each rule.
    /// </summary>
    TokenService,
}
