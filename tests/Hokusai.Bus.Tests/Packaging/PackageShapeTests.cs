using System.Reflection;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// Each package pulls in only what its users need: what an assembly references, and what the Hokusai assemblies it
/// references reference in turn, is what installing its package brings.
/// </summary>
public sealed class PackageShapeTests
{
    public static TheoryData<string, string[]> Forbidden() => new()
    {
        // A producer needs MassTransit's abstractions and the contracts: no HTTP client, Polly, Redis or transport.
        { "Hokusai.Bus.Producer", ["Polly.Core", "Microsoft.Extensions.Http", "StackExchange.Redis", "MassTransit", "MassTransit.RabbitMqTransport"] },
        // The contracts are the BCL only.
        { "Hokusai.Bus.Contracts", ["MassTransit", "MassTransit.Abstractions", "Polly.Core", "StackExchange.Redis"] },
        // A receiver de-duplicating in memory needs no Redis client.
        { "Hokusai.Bus.Receiver", ["StackExchange.Redis", "MassTransit", "Polly.Core"] },
        // Webhook delivery alone needs no Redis client.
        { "Hokusai.Bus", ["StackExchange.Redis"] },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void A_package_does_not_bring_what_its_users_do_not_need(string package, string[] forbidden)
    {
        var brought = Brought(Load(package));

        Assert.All(forbidden, name => Assert.DoesNotContain(name, brought));
    }

    [Fact]
    public void The_Redis_packages_are_where_StackExchange_Redis_comes_from()
    {
        Assert.Contains("StackExchange.Redis", Brought(typeof(HokusaiRedisOptions).Assembly));
        Assert.Contains("StackExchange.Redis", Brought(typeof(Hokusai.Bus.Receiver.HokusaiReceiverRedisExtensions).Assembly));
        Assert.Contains("MassTransit.Abstractions", Brought(typeof(ModelRegisteredPublishExtensions).Assembly));
    }

    private static Assembly Load(string package) => package switch
    {
        "Hokusai.Bus.Producer" => typeof(ModelRegisteredPublishExtensions).Assembly,
        "Hokusai.Bus.Contracts" => typeof(ModelRegistered).Assembly,
        "Hokusai.Bus.Receiver" => typeof(Hokusai.Bus.Receiver.HokusaiReceiverOptions).Assembly,
        _ => typeof(HokusaiWebhookOptions).Assembly,
    };

    /// <summary>The names of the assemblies <paramref name="assembly"/> references, following Hokusai's own.</summary>
    private static HashSet<string> Brought(Assembly assembly)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<Assembly>([assembly]);
        while (pending.TryPop(out var next))
        {
            foreach (var reference in next.GetReferencedAssemblies())
            {
                if (seen.Add(reference.Name!) && reference.Name!.StartsWith("Hokusai.", StringComparison.Ordinal))
                {
                    pending.Push(Assembly.Load(reference));
                }
            }
        }

        return seen;
    }
}
