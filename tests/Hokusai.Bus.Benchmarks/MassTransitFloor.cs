using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// The floor the host is held to: the raw bridge's exact work (read, validate, key, serialize, sign, POST over one
/// HttpClient, acknowledge after the 2xx) as a plain MassTransit 8.5 consumer, configured as a typical application
/// configures it: <c>AddConsumer</c>, the raw JSON deserializer, prefetch and <c>ConcurrentMessageLimit</c> equal to
/// the concurrency, <c>WaitUntilStarted</c>, console logs at Information. A separate process on its own virtual host,
/// like the host and the bridge, so /proc gives its CPU alone. What the host costs above this is ours.
/// </summary>
internal static class MassTransitFloor
{
    private const string Queue = "hokusai-bench-floor";

    /// <summary>The child process: <c>floor AMQP_URL WEBHOOK_URL SECRET CONCURRENCY</c>; runs until stdin closes.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var amqp = new Uri(args[0]);
        var concurrency = int.Parse(args[3], CultureInfo.InvariantCulture);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.AddSingleton(new FloorTarget(new Uri(args[1]), new WebhookSigner(args[2]), new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = concurrency,
            AllowAutoRedirect = false,
        }) { Timeout = Timeout.InfiniteTimeSpan }));
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(o => o.WaitUntilStarted = true);
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<FloorConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(amqp);
                rabbit.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                rabbit.ReceiveEndpoint(Queue, endpoint =>
                {
                    endpoint.PrefetchCount = concurrency;
                    endpoint.ConcurrentMessageLimit = concurrency;
                    endpoint.ConfigureConsumer<FloorConsumer>(context);
                });
            });
        });

        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("floor-consumer ready");
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
        return 0;
    }

    /// <summary>Starts the floor on its own virtual host, warms it up as the host is warmed up, and measures one saturated run.</summary>
    public static Task<Measured> MeasureAsync(
        BenchReceiver receiver, Payload payload, int concurrency, int count, int window, string secret) =>
        ChildBaseline.MeasureAsync("floor-consumer", "hokusai-bench-floor", receiver, payload, concurrency, count, window, secret);

    private sealed record FloorTarget(Uri Url, WebhookSigner Signer, HttpClient Http);

    private sealed class FloorConsumer(FloorTarget target) : IConsumer<ModelRegistered>
    {
        private static readonly MediaTypeHeaderValue Json = new("application/json");

        public async Task Consume(ConsumeContext<ModelRegistered> context)
        {
            var message = context.Message;
            ModelRegisteredValidation.EnsureValid(message);
            var key = IdempotencyKey.For(message);
            var body = ModelRegisteredJson.Serialize(key == message.IdempotencyKey ? message : message with { IdempotencyKey = key });
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = Json;
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, target.Signer.Sign(body));
            request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, key);
            using var response = await target.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.CancellationToken);
            response.EnsureSuccessStatusCode(); // a refusal faults: MassTransit's own handling, as an application would leave it
        }
    }
}

/// <summary>
/// Runs a baseline (<c>bridge</c> or <c>floor</c>) as a child process of this benchmark on its own virtual host, warmed
/// up as the host is, and measured as the host is (<see cref="Measurement"/>).
/// </summary>
internal static class ChildBaseline
{
    public static async Task<Measured> MeasureAsync(
        string mode, string vhostName, BenchReceiver receiver, Payload payload, int concurrency, int count, int window, string secret)
    {
        await using var vhost = await RabbitMqManagement.CreateVirtualHostAsync(vhostName);
        var (process, _) = await ChildProcess.StartAsync(mode, vhost.AmqpUrl.ToString(), receiver.Url.ToString(), secret,
            concurrency.ToString(CultureInfo.InvariantCulture));
        try
        {
            return await Measurement.RunAsync(vhost.AmqpUrl, receiver, payload, count, window, process.Id, () => mode);
        }
        finally
        {
            receiver.Phase = null;
            ChildProcess.Stop(process);
        }
    }
}

/// <summary>What one process did with one stream: msg/s and CPU per delivery saturated, and CPU per delivery paced.</summary>
internal sealed record Measured(
    double PerSecond, double CpuMicrosecondsPerMessage, double PacedCpuMicrosecondsPerMessage, TimeSpan WarmUp, bool JitSettled,
    double ContextSwitchesPerMessage, double PacedContextSwitchesPerMessage);

/// <summary>
/// One measurement, the same for the host and every baseline: a warm-up until the process's JIT is quiet (at least 6 s,
/// at most 90 s: tiered JIT, dynamic PGO, GC heap sizing, HTTP connections; see
/// <see cref="E2eBenchmark.WarmUpUntilJitSettlesAsync"/>), one saturated run (msg/s, and CPU per delivery while the machine's two cores are
/// contended), and one run paced at <see cref="PacedRate"/> (CPU per delivery with the cores not contended: steadier
/// from run to run).
/// </summary>
internal static class Measurement
{
    /// <summary>Well under every process's capacity on 2 cores.</summary>
    public const double PacedRate = 1_000;

    private const int PacedCount = 10_000;

    public static async Task<Measured> RunAsync(
        Uri amqp, BenchReceiver receiver, Payload payload, int count, int window, int pid, Func<string> diagnostics)
    {
        TimeSpan cpu() => HostRun.ProcessCpu(pid);
        await using var publisher = await AmqpPublisher.ConnectAsync(amqp, "bench publisher");
        Task<Phase> Publish(int n, double? perSecond = null) =>
            E2eBenchmark.PublishPhaseAsync(publisher, receiver, payload, n, window, perSecond, diagnostics);

        var (warmUp, settled) = await E2eBenchmark.WarmUpUntilJitSettlesAsync(
            () => Publish(Math.Min(count, 3_000)), pid, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(90));
        var before = cpu();
        var switches = HostRun.ContextSwitches(pid);
        var saturated = await Publish(count);
        var micros = (cpu() - before).TotalMilliseconds * 1000 / count;
        var switchesSaturated = HostRun.ContextSwitchesSince(pid, switches) / (double)count;
        before = cpu();
        switches = HostRun.ContextSwitches(pid);
        await Publish(PacedCount, PacedRate);
        var paced = (cpu() - before).TotalMilliseconds * 1000 / PacedCount;
        var switchesPaced = HostRun.ContextSwitchesSince(pid, switches) / (double)PacedCount;
        return new Measured(saturated.Rate(), micros, paced, warmUp, settled, switchesSaturated, switchesPaced);
    }
}
