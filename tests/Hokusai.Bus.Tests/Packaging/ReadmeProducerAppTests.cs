using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json.Nodes;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The README's whole producer app, compiled and run as written against RabbitMQ (a throwaway vhost). It reads what the
/// app prints from <see cref="Console.Out"/>, which is the whole process's, so it runs alone: in-memory harness tests
/// running beside it log to the console too (a CI run saw a harness's "Subscribing Consumer" line in the app's output).
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReadmeProducerAppTests
{
    [RabbitFact]
    public async Task The_readmes_producer_app_publishes_a_registration_to_the_exchange()
    {
        await using var rabbit = await RabbitMqManagement.CreateVirtualHostAsync("hokusai-producer-app");
        using var api = new HttpClient { BaseAddress = new Uri(Services.ManagementUrl, "api/") };
        api.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        var v = Uri.EscapeDataString(rabbit.VirtualHost);
        const string exchange = "Hokusai.Bus.Contracts%3AModelRegistered";
        (await api.PutAsJsonAsync($"exchanges/{v}/{exchange}", new { type = "fanout", durable = true })).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"queues/{v}/host", new { durable = true })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"bindings/{v}/e/{exchange}/q/host", new { routing_key = "" })).EnsureSuccessStatusCode();
        var app = Assembly.Load(ReadmeSnippetTests.Compile("docs/INTEGRATION.md", "producer-app"));
        var output = new StringWriter();
        var console = Console.Out;
        Environment.SetEnvironmentVariable("RABBITMQ_URL", rabbit.AmqpUrl.ToString());
        try
        {
            Console.SetOut(output);
            await Task.Run(() => app.EntryPoint!.Invoke(null, [Array.Empty<string>()])).WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            Console.SetOut(console);
            Environment.SetEnvironmentVariable("RABBITMQ_URL", null);
        }

        var message = Assert.Single(await rabbit.PeekAsync("host"));
        var body = JsonNode.Parse(message.Payload)!;
        Assert.Equal("model_abc123", body["model_id"]!.GetValue<string>());
        Assert.Equal($"published {body["idempotency_key"]!.GetValue<string>()}", output.ToString().Trim());
    }
}

/// <summary>Tests that read the process's console run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
