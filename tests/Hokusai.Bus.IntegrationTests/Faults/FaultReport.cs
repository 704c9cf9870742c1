using System.Collections.Concurrent;
using System.Text;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>One scenario's count: what was published, what the receiver got, what is in <c>_error</c>, what is lost.</summary>
public sealed record FaultRow(string Scenario, int Published, int DeliveredUnique, int Duplicates, int InError, int Lost);

/// <summary>
/// Collects a row per fault scenario and writes the summary table to artifacts/fault-suite.md (printed by
/// scripts/test.sh) when the collection ends.
/// </summary>
public sealed class FaultReport : IDisposable
{
    private readonly ConcurrentQueue<FaultRow> _rows = new();

    /// <summary>Counts what the receiver and the error queue hold for <paramref name="published"/> keys.</summary>
    internal async Task<FaultRow> RecordAsync(string scenario, Scenario parts, IReadOnlyCollection<string> published,
        IReadOnlyCollection<string>? expectedInError = null)
    {
        var counts = parts.Receiver.AcceptedCounts;
        var delivered = published.Count(counts.ContainsKey);
        var duplicates = published.Sum(k => counts.TryGetValue(k, out var n) ? n - 1 : 0);
        var errors = await parts.ErrorsAsync();
        var inError = published.Count(k => errors.Any(e => e.Payload.Contains(k, StringComparison.Ordinal)));
        var lost = published.Count(k => !counts.ContainsKey(k) && !errors.Any(e => e.Payload.Contains(k, StringComparison.Ordinal)));
        var row = new FaultRow(scenario, published.Count, delivered, duplicates, inError, lost);
        _rows.Enqueue(row);

        Assert.Equal(0, row.Lost);
        Assert.Equal(expectedInError?.Count ?? 0, row.InError);
        Assert.Equal(published.Count - row.InError, row.DeliveredUnique);
        return row;
    }

    /// <summary>Adds a row counted by the scenario itself (paths other than the webhook receiver).</summary>
    public void Add(FaultRow row) => _rows.Enqueue(row);

    public void Dispose()
    {
        var table = new StringBuilder()
            .AppendLine("| scenario | published | delivered unique | duplicates | in _error | lost |")
            .AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in _rows.OrderBy(r => r.Scenario, StringComparer.Ordinal))
        {
            table.AppendLine($"| {row.Scenario} | {row.Published} | {row.DeliveredUnique} | {row.Duplicates} | {row.InError} | {row.Lost} |");
        }

        var directory = RepositoryPath("artifacts");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "fault-suite.md"), table.ToString());
    }

    private static string RepositoryPath(string relative)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Hokusai.Bus.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))!;
        }

        return Path.Combine(root, relative);
    }
}

/// <summary>The fault scenarios run alone (one restarts RabbitMQ), after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultReport>
{
    public const string Name = "Fault suite";
}
