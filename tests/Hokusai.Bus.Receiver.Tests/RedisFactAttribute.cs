using System.Net.Sockets;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>
/// A fact that needs Redis on 127.0.0.1:6379. Skipped, with the reason, when Redis does not answer, except when the
/// CI variable is set: then it runs and fails, because CI must never pass by skipping.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public const string Configuration = "127.0.0.1:6379";

    private static readonly Lazy<bool> Reachable = new(() =>
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", 6379).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    });

    public RedisFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) && !Reachable.Value)
        {
            Skip = "Redis is not reachable on 127.0.0.1:6379; run `bash scripts/test.sh` (or start redis-server) to run this test.";
        }
    }
}
