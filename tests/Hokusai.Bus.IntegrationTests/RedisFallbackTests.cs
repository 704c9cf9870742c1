using System.Collections.Concurrent;
using Hokusai.Bus.TestSupport;
using StackExchange.Redis;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>The guide's three migration phases on real RabbitMQ and a real redis-server.</summary>
public sealed class RedisFallbackTests
{
    private const string Channel = "hokusai:model_ready_queue:pubsub";
    private const string List = "hokusai:model_ready_queue";
    private const string RedisQueue = "hokusai-redis-fallback";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitRedisFact]
    public async Task Phase_1_with_the_webhook_format_both_the_webhook_and_redis_subscribers_get_every_registration_byte_for_byte()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var published = new ConcurrentQueue<byte[]>();
        await client.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Channel), (_, body) => published.Enqueue(body!));
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "true",
            ["REDIS_URL"] = $"redis://{redis.Address}/0",
            ["REDIS_MESSAGE_FORMAT"] = "webhook",
        });

        const int count = 10;
        for (var i = 0; i < count; i++)
        {
            await scenario.PublishAsync(Payloads.Registration());
        }

        await scenario.Receiver.WaitForAcceptedAsync(count, Wait);
        await RabbitMqManagement.Eventually(
            async () => published.Count == count && await client.GetDatabase().ListLengthAsync(List) == count,
            Wait, $"{count} messages on the Redis channel and list");

        var webhookBodies = scenario.Receiver.Requests.Select(r => Convert.ToHexString(r.Body)).Order().ToArray();
        Assert.Equal(webhookBodies, published.Select(Convert.ToHexString).Order());
        var listed = await client.GetDatabase().ListRangeAsync(List);
        Assert.Equal(webhookBodies, listed.Select(v => Convert.ToHexString((byte[])v!)).Order());
    }

    [RabbitRedisFact]
    public async Task Phase_2_with_the_flag_off_the_redis_queue_receives_nothing()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var scenario = await Scenario.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["ENABLE_REDIS_FALLBACK"] = "false",
            ["REDIS_URL"] = redis.Address,
        });

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        Assert.Empty(await scenario.Rabbit.PeekAsync(RedisQueue));
        Assert.Equal((0, 0), await scenario.Rabbit.DepthAsync(RedisQueue));
        Assert.Equal(0, await client.GetDatabase().ListLengthAsync(List));
        var clients = (string)(await client.GetServer(redis.Address).ExecuteAsync("CLIENT", "LIST"))!;
        Assert.DoesNotContain("name=Hokusai.Bus", clients);
    }

    [RabbitFact]
    public async Task Phase_3_without_any_redis_settings_and_no_redis_at_all_the_host_is_healthy_and_delivers()
    {
        await using var scenario = await Scenario.StartAsync();
        var host = await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["REDIS_URL"] = "127.0.0.1:1", // nothing listens there: any attempt would show
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        await scenario.PublishAsync(Payloads.Registration());
        await scenario.Receiver.WaitForAcceptedAsync(1, Wait);

        await RabbitMqManagement.Eventually(async () => await http.GetStringAsync("health/ready") == "Healthy", Wait, "ready");
        Assert.DoesNotContain("Redis", host.Output, StringComparison.OrdinalIgnoreCase);
    }

    [RabbitRedisFact]
    public async Task A_redis_that_requires_a_password_is_fed_with_the_password_from_REDIS_PASSWORD_FILE()
    {
        const string password = "redis-secret-from-a-file-7c21";
        await using var redis = await RedisServerProcess.StartAsync(password);
        await using var scenario = await Scenario.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync($"{redis.Address},password={password}");
        var secrets = Directory.CreateTempSubdirectory("hokusai-secrets-");
        try
        {
            var file = Path.Combine(secrets.FullName, "redis_password");
            await File.WriteAllTextAsync(file, password + "\n");
            var host = await scenario.StartHostAsync(new Dictionary<string, string>
            {
                ["ENABLE_REDIS_FALLBACK"] = "true",
                ["REDIS_URL"] = $"redis://{redis.Address}/0", // no password in the URL: the server refuses such clients
                ["REDIS_PASSWORD_FILE"] = file,
            });

            await scenario.PublishAsync(Payloads.Registration());
            await RabbitMqManagement.Eventually(
                async () => await client.GetDatabase().ListLengthAsync(List) == 1, Wait, "the registration on the Redis list");

            Assert.Empty(await scenario.Rabbit.PeekAsync(RedisQueue + "_error"));
            Assert.DoesNotContain(password, host.Output, StringComparison.Ordinal);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }
}
