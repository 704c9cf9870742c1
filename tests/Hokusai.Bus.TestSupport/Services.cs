using System.Net.Sockets;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// Whether RabbitMQ and Redis answer on loopback. Tests that need them are skipped with the reason when they do not,
/// except under CI (the CI variable set), where they run and fail: CI must never pass by skipping.
/// </summary>
public static class Services
{
    private static readonly Lazy<bool> Rabbit = new(() => Answers(5672) && Answers(15672));
    private static readonly Lazy<bool> RedisUp = new(() => Answers(6379));

    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static string? RabbitMqSkipReason => InCi || Rabbit.Value
        ? null
        : "RabbitMQ is not reachable on 127.0.0.1:5672/15672; run `bash scripts/test.sh`, which starts it.";

    public static string? RedisSkipReason => InCi || RedisUp.Value
        ? null
        : "Redis is not reachable on 127.0.0.1:6379; run `bash scripts/test.sh`, which starts it.";

    private static bool Answers(int port)
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

/// <summary>A fact that needs RabbitMQ and Redis; see <see cref="Services"/>.</summary>
public sealed class RabbitRedisFactAttribute : Xunit.FactAttribute
{
    public RabbitRedisFactAttribute() => Skip = Services.RabbitMqSkipReason ?? Services.RedisSkipReason;
}
