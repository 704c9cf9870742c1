using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Delivery;
using Hokusai.Bus.TestSupport;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StackExchange.Redis;

namespace Hokusai.Bus.Tests.Redis;

/// <summary>The Redis fallback consumer's registration and policy in the in-memory harness, against a private redis-server.</summary>
public sealed class RedisFallbackHarnessTests
{
    [Fact]
    public async Task With_the_webhook_format_publishes_the_webhook_body_to_the_channel_and_the_list()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var provider = Provider(o =>
        {
            o.Url = redis.Address;
            o.MessageFormat = RedisMessageFormat.Webhook;
        });
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.GetSubscriber().SubscribeAsync(
            RedisChannel.Literal("hokusai:model_ready_queue:pubsub"), (_, body) => received.TrySetResult(body!));
        var registration = Harness.Registration();

        await harness.Bus.Publish(registration);

        var expected = ModelRegisteredJson.Serialize(registration);
        Assert.Equal(expected, await received.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        // The same MULTI/EXEC pushed it to the list.
        Assert.Equal(expected, (byte[])(await client.GetDatabase().ListRightPopAsync("hokusai:model_ready_queue"))!);
    }

    [Fact]
    public async Task With_redis_unreachable_the_message_is_retried_then_waits_in_the_queue_instead_of_faulting()
    {
        await using var provider = Provider(o =>
        {
            o.Url = "127.0.0.1:1";
            o.MaxRetries = 2;
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
        });
        using var retries = new MetricCollector<long>(
            provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), HokusaiNames.MeterName, "redis_retry_count");
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        await harness.Bus.Publish(Harness.Registration());

        // After its in-host retries the message is put back on its queue for later, with its history in headers.
        Assert.True(await harness.Sent.Any<ModelRegistered>(s => s.Context.Headers.Get<string>("Hokusai-Redeliveries") == "1"));
        var copy = harness.Sent.Select<ModelRegistered>().First().Context;
        Assert.Contains("Redis", copy.Headers.Get<string>("Hokusai-Last-Reason"), StringComparison.OrdinalIgnoreCase);
        Assert.True(copy.Delay > TimeSpan.Zero);
        Assert.False(await harness.Published.Any<Fault<ModelRegistered>>());
        // Each delivery is tried 1 + REDIS_MAX_RETRIES times before it waits; the copy comes back and is tried again.
        Assert.True(retries.GetMeasurementSnapshot().Sum(m => m.Value) >= 2);
    }

    [Fact]
    public async Task With_redis_unreachable_for_more_than_30_s_the_consumer_replaces_its_connection()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var provider = Provider(o =>
        {
            o.Url = "127.0.0.1:1";
            o.MaxRetries = 0; // the quick retries wait on the fake clock too; this test is about the connection
        }, time);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var connection = provider.GetRequiredService<RedisConnection>();

        await harness.Bus.Publish(Harness.Registration());
        Assert.True(await harness.Sent.Any<ModelRegistered>()); // failed, and put back for later
        Assert.Equal(0, connection.Replacements);

        time.Advance(TimeSpan.FromSeconds(31));
        var later = Harness.Registration();
        await harness.Bus.Publish(later);
        Assert.True(await harness.Sent.Any<ModelRegistered>(s => s.Context.Message.IdempotencyKey == later.IdempotencyKey));
        Assert.Equal(1, connection.Replacements);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData(null, false)]
    public void The_host_registers_the_redis_consumer_only_when_ENABLE_REDIS_FALLBACK_is_true(string? flag, bool registered)
    {
        // The host maps the guide's variable onto the plugin's key.
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ENABLE_REDIS_FALLBACK"] = flag });
        var guide = Host.HostSettings.Apply(configuration);
        var services = new ServiceCollection();

        services.AddMassTransitTestHarness(x =>
        {
            x.DisableUsageTelemetry();
            guide.AddHokusai(x);
        });

        Assert.Equal(registered, services.Any(s => s.ServiceType == typeof(RedisFallbackConsumer)));
        Assert.Equal(registered, services.Any(s => s.ServiceType == typeof(RedisConnection)));
        Assert.Contains(services, s => s.ServiceType == typeof(WebhookEndpointSet));
    }

    private static ServiceProvider Provider(Action<HokusaiRedisOptions> configure, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddMassTransitTestHarness(x =>
        {
            x.DisableUsageTelemetry();
            x.AddHokusaiRedisFallback(configure);
        });
        return services.BuildServiceProvider(validateScopes: true);
    }
}
