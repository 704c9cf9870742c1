using System.Diagnostics;
using System.Reflection;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// docs/INTEGRATION.md's harness test, compiled as the test project it describes and run: it passes when its receiver
/// (127.0.0.1:5005) accepts, and with nothing listening there it fails within seconds and the harness stops at once,
/// instead of waiting and retrying for minutes.
/// </summary>
[Collection(nameof(ReadmeHarnessTests))] // both tests use port 5005
public sealed class ReadmeHarnessTests
{
    private static readonly Lazy<Assembly> Snippet = new(() => Assembly.Load(ReadmeSnippetTests.Compile("docs/INTEGRATION.md", "harness")));

    [Fact]
    public async Task With_its_receiver_up_the_readme_harness_test_passes_and_the_delivery_is_signed()
    {
        await using var receiver = await WebhookReceiver.StartAsync("test-secret", port: 5005);

        await RunAsync();

        Assert.True(Assert.Single(receiver.Requests).SignatureValid);
    }

    [Fact]
    public async Task With_nothing_listening_the_readme_harness_test_fails_within_seconds_and_stops_at_once()
    {
        var elapsed = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<TimeoutException>(RunAsync);

        Assert.InRange(elapsed.Elapsed.TotalSeconds, 9, 20); // its 10 s bound, then the harness's stop
        Assert.NotNull(failure);
    }

    private static async Task RunAsync()
    {
        var type = Snippet.Value.GetType("WebhookDeliveryTests")!;
        var test = type.GetMethod("A_registration_reaches_the_receiver")!;
        try
        {
            await (Task)test.Invoke(Activator.CreateInstance(type), null)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
