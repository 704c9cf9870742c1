using System.Text.Json.Nodes;

namespace Hokusai.Bus.Cli.Tests;

/// <summary>One entry of the shared <c>signatures.json</c>: a secret, exact body bytes and a signature.</summary>
public sealed record SignatureVector(string Name, string Secret, byte[] Body, string Signature)
{
    private static readonly Lazy<JsonNode> Document = new(() => JsonNode.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "signatures.json")))!);

    /// <summary>Vectors that must verify (section <c>vectors</c>).</summary>
    public static IReadOnlyList<SignatureVector> Valid => Read("vectors");

    /// <summary>Vectors that must be rejected (section <c>must_reject</c>).</summary>
    public static IReadOnlyList<SignatureVector> MustReject => Read("must_reject");

    public static TheoryData<string> ValidNames => [.. Valid.Select(v => v.Name)];

    public static TheoryData<string> MustRejectNames => [.. MustReject.Select(v => v.Name)];

    private static List<SignatureVector> Read(string section) =>
        Document.Value[section]!.AsArray().Select(v => new SignatureVector(
            v!["name"]!.GetValue<string>(),
            v["secret"]!.GetValue<string>(),
            Convert.FromBase64String(v["body_base64"]!.GetValue<string>()),
            v["signature"]!.GetValue<string>())).ToList();
}
