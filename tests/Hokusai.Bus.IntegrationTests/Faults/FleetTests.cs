using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// The fleet's breaker with real hosts on the private node: a host that starts while another's breaker is open learns
/// it and sends nothing, and when the host that leads (and makes the trials) is killed, the other takes over the trials
/// after the recovery time plus one attempt's timeout and 2 s; nothing is lost.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FleetTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1 + 2); // WEBHOOK_TIMEOUT 1 s, and 2 s
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RabbitFact]
    public async Task A_late_host_follows_the_open_breaker_and_takes_over_the_trials_when_the_leader_dies()
    {
        await using var scenario = await Scenario.StartAsync();
        var down = true;
        scenario.Receiver.Respond = _ => ValueTask.FromResult(
            Volatile.Read(ref down) ? new WebhookReceiver.Response(503) : WebhookReceiver.Response.Ok);
        var settings = new Dictionary<string, string>
        {
            ["WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD"] = "3",
            ["WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME"] = "2",
            ["WEBHOOK_TIMEOUT"] = "1",
            ["WEBHOOK_CONCURRENCY"] = "1",
        };

        // The leader alone opens the breaker: 3 failures, then a trial every 2 s.
        var leader = await scenario.StartHostAsync(settings);
        var keys = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid().ToString()).ToList();
        foreach (var key in keys)
        {
            await scenario.PublishAsync(Payloads.Registration(key));
        }

        await scenario.Receiver.WaitForRequestsAsync(4, Wait); // 3 to open, then the first trial

        // A host started now asks, hears the leader's answer, and follows: readiness Degraded at once, and no request
        // of its own while the leader's trials go on.
        var follower = await scenario.StartHostAsync(settings);
        using var http = new HttpClient { BaseAddress = follower.BaseUrl };
        await RabbitMqManagement.Eventually(
            async () => (await http.GetStringAsync("health/ready")).StartsWith("Degraded", StringComparison.Ordinal),
            Wait, "the new host's breaker open without a failure of its own");
        var followingSince = DateTimeOffset.UtcNow;
        await scenario.Receiver.WaitUntilAsync(r => r.Requests.Count(q => q.ReceivedAt > followingSince) >= 3, Wait,
            "three more trials");
        AssertOneTrialPerRecoveryTime(scenario.Receiver.Requests.Where(q => q.ReceivedAt > followingSince));

        // The leader dies: the follower hears nothing more and, after the recovery time and the grace, tries itself.
        await leader.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        await scenario.Receiver.WaitUntilAsync(r => r.Requests.Any(q => q.ReceivedAt > killedAt), Wait, "a trial after the kill");
        var takeOver = scenario.Receiver.Requests.First(q => q.ReceivedAt > killedAt).ReceivedAt - killedAt;
        Assert.True(takeOver <= Recovery + Grace + TimeSpan.FromSeconds(2), $"the follower's first trial came {takeOver.TotalSeconds:0.0} s after the kill");

        Volatile.Write(ref down, false);
        await scenario.Receiver.WaitUntilAsync(r => keys.All(r.AcceptedCounts.ContainsKey), Wait, "every registration delivered");
        Assert.Empty(await scenario.ErrorsAsync());
        Assert.False(follower.HasExited);
    }

    private static void AssertOneTrialPerRecoveryTime(IEnumerable<ReceivedRequest> requests)
    {
        var times = requests.Select(q => q.ReceivedAt).Order().ToList();
        for (var i = 1; i < times.Count; i++)
        {
            Assert.True(times[i] - times[i - 1] >= Recovery * 0.9,
                $"two requests {(times[i] - times[i - 1]).TotalSeconds:0.00} s apart while the breaker was open: the new host did not follow");
        }
    }
}
