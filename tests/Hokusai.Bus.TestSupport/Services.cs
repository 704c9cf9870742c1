using System.Net.Sockets;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// The private RabbitMQ node and Redis that <c>scripts/services.sh</c> starts for the tests, on ports of their own
/// (never a broker or Redis already on the machine), read from the same <c>HOKUSAI_TEST_*</c> variables with the same
/// defaults. Tests that need them are skipped with the reason when they do not answer, except under CI (the CI
/// variable set), where they run and fail: CI must never pass by skipping.
/// </summary>
public static class Services
{
    private static readonly Lazy<bool> Rabbit = new(() => Answers(AmqpPort) && Answers(ManagementPort));
    private static readonly Lazy<bool> RedisUp = new(() => Answers(RedisPort));

    /// <summary>The private node's AMQP port (<c>HOKUSAI_TEST_AMQP_PORT</c>, default 5682).</summary>
    public static int AmqpPort { get; } = Port("HOKUSAI_TEST_AMQP_PORT", 5682);

    /// <summary>The private node's management API port (<c>HOKUSAI_TEST_MANAGEMENT_PORT</c>, default 15682).</summary>
    public static int ManagementPort { get; } = Port("HOKUSAI_TEST_MANAGEMENT_PORT", 15682);

    /// <summary>The private Redis's port (<c>HOKUSAI_TEST_REDIS_PORT</c>, default 6389).</summary>
    public static int RedisPort { get; } = Port("HOKUSAI_TEST_REDIS_PORT", 6389);

    /// <summary>The private node's name (<c>HOKUSAI_TEST_RABBITMQ_NODE</c>), for its log file.</summary>
    public static string RabbitMqNode { get; } =
        Environment.GetEnvironmentVariable("HOKUSAI_TEST_RABBITMQ_NODE") is { Length: > 0 } node ? node : "hokusai-test@localhost";

    /// <summary>The private node's data folder (<c>HOKUSAI_TEST_SERVICES_DIR</c>, default artifacts/services).</summary>
    public static string Folder { get; } =
        Environment.GetEnvironmentVariable("HOKUSAI_TEST_SERVICES_DIR") is { Length: > 0 } folder
            ? folder
            : Path.Combine(BuildOutput.RepositoryRoot, "artifacts", "services");

    /// <summary>The management API, <c>http://127.0.0.1:15682/</c> by default (guest/guest).</summary>
    public static Uri ManagementUrl { get; } = new($"http://127.0.0.1:{ManagementPort}/");

    /// <summary>The broker's amqp URL for a virtual host ("/" by default).</summary>
    public static Uri AmqpUrl(string virtualHost = "/") =>
        new($"amqp://guest:guest@127.0.0.1:{AmqpPort}/{Uri.EscapeDataString(virtualHost)}");

    /// <summary>The private Redis, as a StackExchange.Redis configuration string.</summary>
    public static string RedisAddress => $"127.0.0.1:{RedisPort}";

    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static string? RabbitMqSkipReason => InCi || Rabbit.Value
        ? null
        : $"RabbitMQ is not reachable on 127.0.0.1:{AmqpPort}/{ManagementPort}; run `bash scripts/test.sh` (or `bash scripts/services.sh start`), which starts a private node.";

    public static string? RedisSkipReason => InCi || RedisUp.Value
        ? null
        : $"Redis is not reachable on 127.0.0.1:{RedisPort}; run `bash scripts/test.sh` (or `bash scripts/services.sh start`), which starts a private one.";

    /// <summary>A port from <paramref name="variable"/>, or <paramref name="fallback"/>.</summary>
    internal static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var port) ? port : fallback;

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> within a second.</summary>
    internal static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs RabbitMQ; see <see cref="Services"/>.</summary>
public sealed class RabbitFactAttribute : Xunit.FactAttribute
{
    public RabbitFactAttribute() => Skip = Services.RabbitMqSkipReason;
}

/// <summary>A fact that needs the private Redis; see <see cref="Services"/>.</summary>
public sealed class RedisFactAttribute : Xunit.FactAttribute
{
    public RedisFactAttribute() => Skip = Services.RedisSkipReason;
}

/// <summary>A fact that needs RabbitMQ and Redis; see <see cref="Services"/>.</summary>
public sealed class RabbitRedisFactAttribute : Xunit.FactAttribute
{
    public RabbitRedisFactAttribute() => Skip = Services.RabbitMqSkipReason ?? Services.RedisSkipReason;
}

/// <summary>A theory that needs RabbitMQ; see <see cref="Services"/>.</summary>
public sealed class RabbitTheoryAttribute : Xunit.TheoryAttribute
{
    public RabbitTheoryAttribute() => Skip = Services.RabbitMqSkipReason;
}
