using System.Net.Sockets;
using MassTransit;
using RabbitMQ.Client.Exceptions;

namespace Hokusai.Bus.Host;

/// <summary>
/// Names a RabbitMQ connection problem in one line, once until the host connects again: a refused login (wrong user or
/// password), a virtual host the user may not open, nothing listening, or anything else. MassTransit retries by itself;
/// readiness answers 503 until it connects. MassTransit's own lines about the same retries are left out of the console
/// (<see cref="HostConsoleFormatter"/>), so the console says it once, plainly.
/// </summary>
internal sealed class BrokerConnection(ILogger<BrokerConnection> logger, HostSettings settings) : IReceiveEndpointObserver
{
    private string? _reported;

    public Task Ready(ReceiveEndpointReady ready)
    {
        if (Interlocked.Exchange(ref _reported, null) is not null)
        {
            Log.BrokerConnected(logger, settings.RabbitMq.Shown);
        }

        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        if (IsConnectionFailure(faulted.Exception) && Problem(faulted.Exception) is var problem
            && Interlocked.Exchange(ref _reported, problem) != problem)
        {
            Log.BrokerUnreachable(logger, settings.RabbitMq.Shown, problem);
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether <paramref name="exception"/> is about reaching RabbitMQ, not about a message.</summary>
    public static bool IsConnectionFailure(Exception? exception) =>
        Chain(exception).Any(e => e is BrokerUnreachableException or ConnectFailureException
            or AuthenticationFailureException or SocketException
            // The broker closing the connection at once: a vhost the user may not open, a refused login.
            || (e is OperationInterruptedException or AlreadyClosedException
                && (e.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal) || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal))));

    /// <summary>What is wrong, with the fix, in words a user acts on; never a secret.</summary>
    private string Problem(Exception? exception)
    {
        var chain = Chain(exception).ToList();
        if (chain.Any(e => e is AuthenticationFailureException || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal)))
        {
            return $"it refused the login of user '{Contracts.SafeText.Of(settings.RabbitMq.User, 60)}' (ACCESS_REFUSED): "
                   + "check the user and password in RABBITMQ_URL, or RABBITMQ_PASSWORD / RABBITMQ_PASSWORD_FILE";
        }

        if (chain.Any(e => e.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal)))
        {
            return $"the user '{Contracts.SafeText.Of(settings.RabbitMq.User, 60)}' may not open virtual host "
                   + $"'{Contracts.SafeText.Of(settings.RabbitMq.VirtualHost, 60)}' (NOT_ALLOWED): create it, give the user "
                   + "permissions on it, or fix the path of RABBITMQ_URL";
        }

        if (chain.OfType<SocketException>().FirstOrDefault() is { } socket)
        {
            return $"{socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "nothing accepts connections there",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name does not resolve",
                SocketError.TimedOut => "the connection timed out",
                _ => Contracts.SafeText.Of(socket.Message, 120),
            }}: check that RabbitMQ is running there and the host and port of RABBITMQ_URL";
        }

        return Contracts.SafeText.Of(chain[^1].Message, 200);
    }

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}
