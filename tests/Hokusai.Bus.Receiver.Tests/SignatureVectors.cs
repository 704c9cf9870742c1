using System.Text.Json.Nodes;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>One entry of the shared <c>signatures.json</c>: a secret, exact body bytes and a signature.</summary>
internal sealed record SignatureVector(string Name, string Secret, byte[] Body, string Signature);

/// <summary>The shared X-Hokusai-Signature vectors (computed with Python's hmac), linked from the contracts tests.</summary>
internal static class SignatureVectors
{
    private static readonly Lazy<JsonNode> File = new(() => JsonNode.Parse(
        System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "signatures.json")))!);

    public static IReadOnlyList<SignatureVector> Positive => Read("vectors");

    public static IReadOnlyList<SignatureVector> MustReject => Read("must_reject");

    public static TheoryData<string> PositiveNames() => Names(Positive);

    public static TheoryData<string> MustRejectNames() => Names(MustReject);

    private static TheoryData<string> Names(IReadOnlyList<SignatureVector> vectors)
    {
        var data = new TheoryData<string>();
        foreach (var vector in vectors)
        {
            data.Add(vector.Name);
        }

        return data;
    }

    private static List<SignatureVector> Read(string set) =>
        File.Value[set]!.AsArray()
            .Select(v => new SignatureVector(
                v!["name"]!.GetValue<string>(),
                v["secret"]!.GetValue<string>(),
                Convert.FromBase64String(v["body_base64"]!.GetValue<string>()),
                v["signature"]!.GetValue<string>()))
            .ToList();
}
