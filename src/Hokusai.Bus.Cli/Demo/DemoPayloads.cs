using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Demo;

/// <summary>
/// The registrations the demo publishes: the guide's example payload, then variants with other model ids (embedded
/// JSON resources), then, for larger counts, generated ones.
/// </summary>
internal static class DemoPayloads
{
    private const string Prefix = "Hokusai.Bus.Cli.Payloads.";

    /// <summary>The embedded payloads, in file name order (the guide's seed first).</summary>
    public static IReadOnlyList<ModelRegistered> Embedded()
    {
        var assembly = typeof(DemoPayloads).Assembly;
        var names = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        var payloads = new List<ModelRegistered>();
        foreach (var name in names)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            payloads.Add(ModelRegisteredJson.Deserialize(buffer.ToArray()));
        }

        return payloads;
    }

    /// <summary><paramref name="count"/> distinct registrations: the embedded ones first, then generated ones.</summary>
    public static IReadOnlyList<ModelRegistered> Take(int count)
    {
        var embedded = Embedded();
        var seed = embedded[0];
        var result = embedded.Take(count).ToList();
        for (var i = result.Count + 1; result.Count < count; i++)
        {
            result.Add(seed with
            {
                ModelId = $"model_demo_{i:0000}",
                IdempotencyKey = "", // derived from the registration by PublishModelRegistered
                RegisteredVersion = "1",
                TokenSymbol = $"TOKEN_D{i:0000}",
                Metadata = seed.Metadata with { ModelName = $"demo-model-{i}", MlflowRunId = $"run_demo_{i:0000}" },
            });
        }

        return result;
    }
}
