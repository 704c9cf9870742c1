using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>
/// Which kind of RabbitMQ queue the plugins declare: classic (default) or, with <c>Hokusai:QuorumQueues=true</c> (the
/// host's <c>RABBITMQ_QUORUM_QUEUES</c>), replicated quorum queues for a cluster: the delivery queues, their
/// <c>_error</c> and <c>_skipped</c> queues, the delay queues (dead-lettering back at least once) and the Redis
/// fallback's. RabbitMQ cannot change an existing queue's kind, so it must be set before the queues are first declared.
/// </summary>
internal sealed class QueueKind(bool quorum)
{
    /// <summary>The configuration key.</summary>
    public const string Key = "Hokusai:QuorumQueues";

    public bool Quorum { get; } = quorum;

    public static QueueKind From(IConfiguration? configuration) =>
        new(SettingValues.TryParseFlag(configuration?[Key], out var quorum) && quorum);

    /// <summary>The bus's <see cref="QueueKind"/>, or the one configuration gives when none is registered.</summary>
    public static QueueKind Of(IServiceProvider? services) =>
        services?.GetService(typeof(QueueKind)) as QueueKind
        ?? From(services?.GetService(typeof(IConfiguration)) as IConfiguration);
}
