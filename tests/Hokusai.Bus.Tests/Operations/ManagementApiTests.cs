using Hokusai.Bus.Operations;
using Hokusai.Bus.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Hokusai.Bus.Tests.Operations;

/// <summary>
/// What the management API answers is read as RabbitMQ writes it, repeated keys included: RabbitMQ 3.10 wrote
/// <c>"node"</c> twice for a queue in a listing during a CI run, and reading the whole list failed.
/// </summary>
public sealed class ManagementApiTests
{
    [Fact]
    public async Task A_queue_listed_with_a_key_written_twice_is_still_counted_the_last_value_holding()
    {
        await using var server = await LoopbackServer.StartAsync(app => app.MapGet("/api/queues/{vhost}", () => Results.Text(
            """[{"name":"q","node":"rabbit@a","messages":1,"node":"rabbit@b","messages":3},{"name":"q_error","messages":0}]""",
            "application/json")));
        using var api = new ManagementApi(server.BaseUrl, "guest", "guest", "v", TimeSpan.FromSeconds(10));

        var queues = await api.QueuesAsync();

        Assert.Equal(new Dictionary<string, long> { ["q"] = 3, ["q_error"] = 0 }, queues);
    }
}
