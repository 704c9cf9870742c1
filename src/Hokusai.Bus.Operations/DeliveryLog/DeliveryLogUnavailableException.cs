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

    /// <summary>RabbitMQ's 404 on declaring or consuming the stream, told apart by its reply text.</summary>
    internal static DeliveryLogUnavailableException From(OperationInterruptedException e, string stream) =>
        e.ShutdownReason?.ReplyText?.Contains("down or inaccessible", StringComparison.Ordinal) == true
            ? new($"The RabbitMQ node that holds {stream} is down or still starting; try again shortly.", exists: true, e)
            : new($"There is no delivery log in this virtual host yet: {stream} is created by the first host that delivers.", exists: false, e);
}
