using System.Text.RegularExpressions;
using MassTransit;

namespace Hokusai.Bus.Host;

/// <summary>
/// The broker <c>RABBITMQ_URL</c> names: one node (<c>amqp://user:pass@rabbit:5672/vhost</c>) or the nodes of a
/// cluster, comma-separated (<c>amqp://user:pass@node1:5672,node2:5672,node3:5672/vhost</c>), with the same user, password
/// and virtual host on each. MassTransit connects to one of the nodes and, when that node is lost, to another; the
/// password may come from <c>RABBITMQ_PASSWORD</c> (or its file) instead of the URL.
/// </summary>
public sealed partial class RabbitMqBroker
{
    private RabbitMqBroker(string scheme, IReadOnlyList<(string Host, ushort Port)> nodes, string virtualHost, string user,
        string password)
    {
        Scheme = scheme;
        Nodes = nodes;
        VirtualHost = virtualHost;
        User = user;
        Password = password;
    }

    /// <summary>The default: a single node on this machine, as guest.</summary>
    public static RabbitMqBroker Default { get; } = new("amqp", [("localhost", 5672)], "/", "guest", "guest");

    public string Scheme { get; }

    /// <summary>The nodes, in the order given (host and port).</summary>
    public IReadOnlyList<(string Host, ushort Port)> Nodes { get; }

    public string VirtualHost { get; }

    public string User { get; }

    public string Password { get; }

    public bool UseSsl => Scheme is "amqps" or "rabbitmqs";

    /// <summary>The URL as it may be shown: every node, the user, the password masked.</summary>
    public string Shown =>
        $"{Scheme}://{Uri.EscapeDataString(User)}:***@{string.Join(',', Nodes.Select(n => $"{n.Host}:{n.Port}"))}/"
        + (VirtualHost == "/" ? "" : Uri.EscapeDataString(VirtualHost));

    /// <summary>
    /// Reads <paramref name="url"/>; <paramref name="password"/> (<c>RABBITMQ_PASSWORD</c>) replaces the URL's. False
    /// when it is not an amqp:// or amqps:// URL with a host (and a valid port) for each node.
    /// </summary>
    public static bool TryParse(string url, string? password, out RabbitMqBroker broker)
    {
        broker = Default;
        if (Shape().Match(url) is not { Success: true } match)
        {
            return false;
        }

        var scheme = match.Groups["scheme"].Value.ToLowerInvariant();
        var ssl = scheme is "amqps" or "rabbitmqs";
        var nodes = new List<(string, ushort)>();
        foreach (var node in match.Groups["nodes"].Value.Split(','))
        {
            // Each node parsed as the authority of a URL of its own: a host name, IPv4 or [IPv6], and an optional port.
            if (!Uri.TryCreate($"{scheme}://{node.Trim()}/", UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)
                || !string.IsNullOrEmpty(uri.UserInfo) || uri.Port is 0 or > ushort.MaxValue)
            {
                return false;
            }

            nodes.Add((uri.Host, (ushort)(uri.IsDefaultPort || uri.Port < 0 ? (ssl ? 5671 : 5672) : uri.Port)));
        }

        var (user, urlPassword) = match.Groups["userinfo"].Value.Split(':', 2) switch
        {
            [var u, var p] => (u, p),
            [{ Length: > 0 } u] => (u, ""),
            _ => ("guest", "guest"),
        };
        var vhost = Uri.UnescapeDataString(match.Groups["vhost"].Value);
        broker = new RabbitMqBroker(scheme, nodes, vhost.Length > 0 ? vhost : "/", Uri.UnescapeDataString(user),
            password ?? Uri.UnescapeDataString(urlPassword));
        return true;
    }

    /// <summary>Points MassTransit's RabbitMQ transport at the nodes; with several, it picks one and fails over to another.</summary>
    public void ConfigureHost(IRabbitMqBusFactoryConfigurator rabbit)
    {
        var (first, port) = Nodes[0];
        rabbit.Host(first, port, VirtualHost, h =>
        {
            h.Username(User);
            h.Password(Password);
            if (UseSsl)
            {
                h.UseSsl(_ => { });
            }

            if (Nodes.Count > 1)
            {
                h.UseCluster(cluster =>
                {
                    foreach (var (host, nodePort) in Nodes)
                    {
                        cluster.Node($"{host}:{nodePort}");
                    }
                });
            }
        });
    }

    /// <summary>
    /// A RabbitMQ.Client connection to the same nodes, user and virtual host, for what the host does beside MassTransit
    /// (the delivery log); the client picks a reachable node.
    /// </summary>
    public Task<RabbitMQ.Client.IConnection> ConnectAsync(string clientName, CancellationToken cancellationToken)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            UserName = User,
            Password = Password,
            VirtualHost = VirtualHost,
            ClientProvidedName = clientName,
            AutomaticRecoveryEnabled = false, // the caller reconnects
        };
        var endpoints = Nodes.Select(n => new RabbitMQ.Client.AmqpTcpEndpoint(n.Host, n.Port,
            UseSsl ? new RabbitMQ.Client.SslOption(n.Host, enabled: true) : new RabbitMQ.Client.SslOption())).ToList();
        return factory.CreateConnectionAsync(endpoints, cancellationToken);
    }

    [GeneratedRegex(@"^(?<scheme>amqps?|rabbitmqs?)://(?:(?<userinfo>[^@/]*)@)?(?<nodes>[^/?#@]+)(?:/(?<vhost>[^?#]*))?/?(?:[?#].*)?$",
        RegexOptions.IgnoreCase)]
    private static partial Regex Shape();
}
