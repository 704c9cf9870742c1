using RabbitMQ.Client.Exceptions;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>
/// The delivery log cannot be read: it does not exist yet in this virtual host (<see cref="Exists"/> false: no host has
/// written to it), or the node that holds it is down or still starting after a restart (<see cref="Exists"/> true: try
/// again shortly).
/// </summary>
public sealed class DeliveryLogUnavailableException : Exception
{
    private DeliveryLogUnavailableException(string message, bool exists, Exception inner)
        : base(message, inner) => Exists = exists;

    /// <summary>Whether the stream exists (its node is unavailable) rather than not existing yet.</summary>
    public bool Exists { get; }

    /// <summary>RabbitMQ's refusal to declare or consume the stream, told apart by its reply text.</summary>
    internal static DeliveryLogUnavailableException From(OperationInterruptedException e, string stream) =>
        Starting(e)
            ? new($"The RabbitMQ node that holds {stream} is down or still starting; try again shortly.", exists: true, e)
            : new($"There is no delivery log in this virtual host yet: {stream} is created by the first host that delivers.", exists: false, e);

    /// <summary>
    /// Whether RabbitMQ refused because the stream exists but is not running yet: its node down or starting (404 "down
    /// or inaccessible"), or just declared, with no replica started on this node (406 "does not have a replica on the
    /// local node"), or 541: RabbitMQ 3.10's channel crashes on a consume from a stream whose leader is not yet known,
    /// closing the connection.
    /// </summary>
    internal static bool Starting(OperationInterruptedException e) => e.ShutdownReason switch
    {
        { ReplyCode: 541 } => true,
        { ReplyCode: 404, ReplyText: { } text } => text.Contains("down or inaccessible", StringComparison.Ordinal),
        { ReplyCode: 406, ReplyText: { } text } => text.Contains("replica on the local node", StringComparison.Ordinal),
        _ => false,
    };
}
