using Xunit;
using System.Text.Json.Nodes;

namespace Hokusai.Bus.TestSupport;

/// <summary>One entry of <c>TestData/signatures.json</c>: a secret, exact body bytes and the signature Python's hmac computed.</summary>
public sealed record SignatureVector(string Name, string Secret, byte[] Body, string Signature);

/// <summary>
/// One entry of <c>TestData/mlflow-event.json</c>: a registration as the pipeline held it, and the exact body, headers
/// and idempotency key that the pipeline's own publisher sent for it.
/// </summary>
public sealed record MlflowVector(string Name, JsonObject Message, string Secret, byte[] Body, IReadOnlyDictionary<string, string> Headers)
{
    public string IdempotencyKey => Headers["X-Hokusai-Idempotency-Key"];

    public string Signature => Headers["X-Hokusai-Signature"];

    public override string ToString() => Name;
}

/// <summary>
/// One entry of <c>TestData/deltaone-event.json</c>: a DeltaOne event as the pipeline's own sender sent it, with the
/// clock and nonce fixed: the exact body and headers.
/// </summary>
public sealed record DeltaOneVector(string Name, string EventType, string Secret, byte[] Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Signature => Headers["X-Hokusai-Signature"];

    public string Timestamp => Headers["X-Hokusai-Timestamp"];

    public string Nonce => Headers["X-Hokusai-Nonce"];

    public override string ToString() => Name;
}

/// <summary>
/// The one loader of the shared signature vectors (<c>tests/Hokusai.Bus.Tests/TestData/signatures.json</c>, computed
/// with Python's hmac), for every test project that links the file into its output's <c>TestData/</c>.
/// </summary>
public static class TestVectors
{
    /// <summary>The name of the vector whose body is the guide's example payload in Python's compact JSON.</summary>
    public const string CompactSeedName = "seed payload, compact separators";

    /// <summary>The guide's secret, which most vectors use.</summary>
    public const string GuideSecret = "your_shared_secret_here";

    private static readonly Lazy<JsonNode> File = new(() =>
        JsonNode.Parse(System.IO.File.ReadAllText(PathOf("signatures.json")))!);

    private static readonly Lazy<IReadOnlyList<SignatureVector>> PositiveVectors = new(() => Read("vectors"));

    private static readonly Lazy<IReadOnlyList<SignatureVector>> RejectVectors = new(() => Read("must_reject"));

    /// <summary>Vectors that must sign and verify exactly.</summary>
    public static IReadOnlyList<SignatureVector> Positive => PositiveVectors.Value;

    /// <summary>Vectors that must be rejected.</summary>
    public static IReadOnlyList<SignatureVector> MustReject => RejectVectors.Value;

    /// <summary>The header name the vectors file documents.</summary>
    public static string Header => File.Value["header"]!.GetValue<string>();

    /// <summary>The raw bytes of <c>model-registered.seed.json</c> (the guide's example payload, indented).</summary>
    public static byte[] SeedFile() => System.IO.File.ReadAllBytes(PathOf("model-registered.seed.json"));

    /// <summary>The positive vector named <paramref name="name"/>.</summary>
    public static SignatureVector Named(string name) => Positive.Single(v => v.Name == name);

    /// <summary>The positive vectors' names, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> PositiveNames() => [.. Positive.Select(v => v.Name)];

    /// <summary>The must-reject vectors' names, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> MustRejectNames() => [.. MustReject.Select(v => v.Name)];

    /// <summary>(name, index) pairs: the name is the test's display, the index finds the vector.</summary>
    public static TheoryData<string, int> NamesAndIndexes(IReadOnlyList<SignatureVector> vectors)
    {
        var data = new TheoryData<string, int>();
        for (var i = 0; i < vectors.Count; i++)
        {
            data.Add(vectors[i].Name, i);
        }

        return data;
    }

    /// <summary>The MLflow-event vectors (<c>TestData/mlflow-event.json</c>), produced by the pipeline's own publisher.</summary>
    public static IReadOnlyList<MlflowVector> Mlflow => MlflowVectors.Value;

    /// <summary>The MLflow-event vectors' names, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> MlflowNames() => [.. Mlflow.Select(v => v.Name)];

    private static readonly Lazy<IReadOnlyList<MlflowVector>> MlflowVectors = new(() =>
        JsonNode.Parse(System.IO.File.ReadAllText(PathOf("mlflow-event.json")))!["vectors"]!.AsArray()
            .Select(v => new MlflowVector(
                v!["name"]!.GetValue<string>(),
                v["message"]!.AsObject(),
                v["secret"]!.GetValue<string>(),
                System.Text.Encoding.UTF8.GetBytes(v["body"]!.GetValue<string>()),
                v["headers"]!.AsObject().ToDictionary(h => h.Key, h => h.Value!.GetValue<string>())))
            .ToList());

    /// <summary>The DeltaOne vectors (<c>TestData/deltaone-event.json</c>), produced by the pipeline's own sender.</summary>
    public static IReadOnlyList<DeltaOneVector> DeltaOne => DeltaOneVectors.Value;

    /// <summary>The DeltaOne vectors' names, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> DeltaOneNames() => [.. DeltaOne.Select(v => v.Name)];

    private static readonly Lazy<IReadOnlyList<DeltaOneVector>> DeltaOneVectors = new(() =>
        JsonNode.Parse(System.IO.File.ReadAllText(PathOf("deltaone-event.json")))!["vectors"]!.AsArray()
            .Select(v => new DeltaOneVector(
                v!["name"]!.GetValue<string>(),
                v["event_type"]!.GetValue<string>(),
                v["secret"]!.GetValue<string>(),
                System.Text.Encoding.UTF8.GetBytes(v["body"]!.GetValue<string>()),
                v["headers"]!.AsObject().ToDictionary(h => h.Key, h => h.Value!.GetValue<string>())))
            .ToList());

    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "TestData", file);

    private static IReadOnlyList<SignatureVector> Read(string set) =>
        File.Value[set]!.AsArray()
            .Select(v => new SignatureVector(
                v!["name"]!.GetValue<string>(),
                v["secret"]!.GetValue<string>(),
                Convert.FromBase64String(v["body_base64"]!.GetValue<string>()), // "" is the empty body
                v["signature"]!.GetValue<string>()))
            .ToList();
}
