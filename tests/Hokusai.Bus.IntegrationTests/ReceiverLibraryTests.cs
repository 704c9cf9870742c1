using System.Collections.Concurrent;
using System.Net;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Hokusai.Bus.IntegrationTests;

/// <summary>A receiver built with Hokusai.Bus.Receiver, receiving from the real host on real RabbitMQ.</summary>
public sealed class ReceiverLibraryTests
{
    [RabbitFact]
    public async Task The_library_receiver_gets_each_registration_once_with_standard_webhooks_required()
    {
        await using var scenario = await Scenario.StartAsync();
        var handled = new ConcurrentQueue<ModelRegistered>();
        var answered = 0;
        var recorded = new Recorded(() => $"{handled.Count} handled, {answered} answered 200");
        await using var server = await LoopbackServer.StartAsync(
            app =>
            {
                app.Use(async (context, next) =>
                {
                    await next(context);
                    if (context.Response.StatusCode == 200)
                    {
                        recorded.Record(() => answered++);
                    }
                });
                app.MapHokusaiWebhook("/api/models/ready", (registration, _, _) =>
                {
                    recorded.Record(() => handled.Enqueue(registration));
                    return Task.CompletedTask;
                });
            },
            builder => builder.Services.AddHokusaiWebhookReceiver(o =>
            {
                o.Secret = Scenario.Secret;
                o.RequireStandardWebhooks = true;
            }));

        await scenario.StartHostAsync(new Dictionary<string, string>
        {
            ["WEBHOOK_URL"] = server.At("api/models/ready").ToString(),
            ["WEBHOOK_STANDARD_SIGNATURES"] = "true",
        });
        var keys = new[] { "k-1", "k-2", "k-3" };
        foreach (var key in keys)
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        await scenario.PublishAsync(Payloads.Registration("k-1")); // a re-published registration
        await recorded.WaitAsync(() => handled.Count >= 3, TimeSpan.FromSeconds(30), "three registrations handled");
        // Four deliveries answered 200; the fourth, a duplicate, as already_processed without the handler.
        await recorded.WaitAsync(() => answered >= 4, TimeSpan.FromSeconds(30), "four deliveries answered 200");

        Assert.Equal(keys, handled.Select(r => r.IdempotencyKey).Order());
        Assert.Empty(await scenario.ErrorsAsync());
    }

    [Fact]
    public async Task The_sample_receiver_without_WEBHOOK_SECRET_or_with_an_unreadable_file_exits_2_naming_it_and_with_it_answers_health_unsigned()
    {
        var dll = BuildOutput.Dll("Hokusai.Bus.SampleReceiver", "Hokusai.Bus.SampleReceiver.dll");
        var port = LoopbackPort.Free();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment = { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}", ["WEBHOOK_SECRET"] = null },
        };
        using (var missing = System.Diagnostics.Process.Start(start)!)
        {
            var errors = missing.StandardError.ReadToEndAsync();
            var output = missing.StandardOutput.ReadToEndAsync();
            await missing.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("Secret is required", await errors, StringComparison.Ordinal);
            // No stack trace anywhere: not on stderr, and not logged by the host to stdout before the message.
            Assert.DoesNotContain("   at ", await errors + await output, StringComparison.Ordinal);
            Assert.DoesNotContain("OptionsValidationException", await output, StringComparison.Ordinal);
        }

        var absent = Path.Combine(Path.GetTempPath(), $"hokusai-absent-{Guid.NewGuid():N}", "webhook_secret");
        start.Environment["WEBHOOK_SECRET_FILE"] = absent;
        using (var unreadable = System.Diagnostics.Process.Start(start)!)
        {
            var errors = unreadable.StandardError.ReadToEndAsync();
            await unreadable.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(2, unreadable.ExitCode);
            Assert.Contains($"WEBHOOK_SECRET_FILE names {absent}, but it does not exist.", await errors, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", await errors, StringComparison.Ordinal);
        }

        start.Environment["WEBHOOK_SECRET_FILE"] = null;
        start.Environment["WEBHOOK_SECRET"] = "sample-secret-7d1e";
        using var running = System.Diagnostics.Process.Start(start)!;
        try
        {
            using var http = new HttpClient();
            await RabbitMqManagement.Eventually(async () =>
            {
                try
                {
                    return (await http.GetAsync($"http://127.0.0.1:{port}/health")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "the sample receiver's /health answers 200");

            // `hokusai-bus health` POSTs {"test": true}, as the guide's curl does: the same endpoint answers it.
            using var post = await http.PostAsync($"http://127.0.0.1:{port}/health",
                new StringContent("{\"test\": true}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }
        finally
        {
            running.Kill(entireProcessTree: true);
        }
    }
}
