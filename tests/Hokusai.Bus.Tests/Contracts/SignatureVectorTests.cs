using System.Text;
using System.Text.Json.Nodes;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// Known answers: signatures computed by Python's hmac and checked with Node's crypto (TestData/signatures.json,
/// copied from the shared test vectors).
/// </summary>
public sealed class SignatureVectorTests
{
    private static readonly JsonNode Vectors =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "signatures.json")))!;

    public static TheoryData<string> Positive() => Names("vectors");

    public static TheoryData<string> Negative() => Names("must_reject");

    [Theory]
    [MemberData(nameof(Positive))]
    public void Every_vector_is_signed_and_verified_exactly(string name)
    {
        var (secret, body, signature) = Vector("vectors", name);

        Assert.Equal(signature, new WebhookSigner(secret).Sign(body));
        Assert.Equal("sha256=" + signature, new WebhookSigner(secret, SignatureFormat.Sha256Prefixed).Sign(body));
        Assert.True(new WebhookVerifier(secret).Verify(body, signature));
        Assert.True(new WebhookVerifier(secret).Verify(body, "sha256=" + signature));
    }

    [Theory]
    [MemberData(nameof(Negative))]
    public void Every_must_reject_vector_is_rejected(string name)
    {
        var (secret, body, signature) = Vector("must_reject", name);

        Assert.False(new WebhookVerifier(secret).Verify(body, signature));
        Assert.False(new WebhookVerifier(secret).Verify(body, "sha256=" + signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("sha256=")]
    [InlineData("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75c")] // 62 hex digits
    [InlineData("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7aa")] // 66
    [InlineData("sha1=6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7")]
    [InlineData("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75cg7")] // a non-hex digit
    public void Malformed_signatures_are_rejected_without_throwing(string? signature)
    {
        var (secret, body, _) = Vector("vectors", "seed payload, compact separators");

        Assert.False(new WebhookVerifier(secret).Verify(body, signature));
    }

    [Fact]
    public void Uppercase_hex_of_the_right_signature_is_accepted()
    {
        var (secret, body, signature) = Vector("vectors", "seed payload, compact separators");

        Assert.True(new WebhookVerifier(secret).Verify(body, signature.ToUpperInvariant()));
    }

    [Fact]
    public void The_header_lookup_reads_X_Hokusai_Signature()
    {
        var (secret, body, signature) = Vector("vectors", "health probe body");
        var verifier = new WebhookVerifier(secret);

        Assert.True(verifier.Verify(body, name => name == "X-Hokusai-Signature" ? signature : null));
        Assert.False(verifier.Verify(body, _ => null));
    }

    [Fact]
    public void An_empty_secret_is_refused_and_no_type_prints_its_secret()
    {
        Assert.Throws<ArgumentException>(() => new WebhookSigner(""));
        Assert.Throws<ArgumentException>(() => new WebhookVerifier(""));
        Assert.DoesNotContain("topsecret", new WebhookSigner("topsecret").ToString());
        Assert.DoesNotContain("topsecret", new WebhookVerifier("topsecret").ToString());
    }

    private static TheoryData<string> Names(string set)
    {
        var data = new TheoryData<string>();
        foreach (var vector in Vectors[set]!.AsArray())
        {
            data.Add(vector!["name"]!.GetValue<string>());
        }

        return data;
    }

    private static (string Secret, byte[] Body, string Signature) Vector(string set, string name)
    {
        var vector = Vectors[set]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == name)!;
        return (vector["secret"]!.GetValue<string>(),
            Convert.FromBase64String(vector["body_base64"]!.GetValue<string>()),
            vector["signature"]!.GetValue<string>());
    }

    internal static byte[] CompactSeedBody() => Vector("vectors", "seed payload, compact separators").Body;

    internal static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
