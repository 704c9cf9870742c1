using Hokusai.Bus.TestSupport;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// X-Hokusai-Signature against the shared known answers (TestData/signatures.json: computed with Python's hmac,
/// checked with Node's crypto), plus what a receiver sees with a missing, malformed or wrong header.
/// </summary>
public sealed class SignatureVectorTests
{
    // The signature of the compact seed body with the guide's secret (vector "seed payload, compact separators").
    private const string SeedSignature = "6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7";

    public static TheoryData<string, int> Positive() => TestVectors.NamesAndIndexes(TestVectors.Positive);

    public static TheoryData<string, int> MustReject() => TestVectors.NamesAndIndexes(TestVectors.MustReject);

    [Theory]
    [MemberData(nameof(Positive))]
    public void Every_vector_signs_to_its_known_signature_and_verifies(string name, int index)
    {
        var vector = TestVectors.Positive[index];
        Assert.Equal(name, vector.Name);

        Assert.Equal(vector.Signature, new WebhookSigner(vector.Secret).Sign(vector.Body));
        Assert.Equal("sha256=" + vector.Signature,
            new WebhookSigner(vector.Secret, SignatureFormat.Sha256Prefixed).Sign(vector.Body));

        var verifier = new WebhookVerifier(vector.Secret);
        Assert.True(verifier.Verify(vector.Body, vector.Signature));
        Assert.True(verifier.Verify(vector.Body, "sha256=" + vector.Signature));
    }

    [Theory]
    [MemberData(nameof(MustReject))]
    public void Every_must_reject_vector_is_rejected(string name, int index)
    {
        var vector = TestVectors.MustReject[index];
        Assert.Equal(name, vector.Name);

        Assert.False(new WebhookVerifier(vector.Secret).Verify(vector.Body, vector.Signature));
    }

    [Fact]
    public void The_default_format_is_the_guides_bare_hex()
    {
        var signer = new WebhookSigner(TestVectors.GuideSecret);

        Assert.Equal(SignatureFormat.Hex, signer.Format);
        Assert.Equal(SeedSignature, signer.Sign(TestVectors.Named(TestVectors.CompactSeedName).Body));
    }

    [Theory]
    [InlineData("absent header", null)]
    [InlineData("empty", "")]
    [InlineData("blank", "   ")]
    [InlineData("prefix alone", "sha256=")]
    [InlineData("63 hex digits", "6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce")]
    [InlineData("65 hex digits", "6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce70")]
    [InlineData("prefix and 63 hex digits", "sha256=6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce")]
    [InlineData("64 chars, one not hex", "6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75cg7")]
    [InlineData("64 chars, one a space", "6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c7 ce7")]
    [InlineData("another scheme", "sha1=6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75ce7")]
    public void A_missing_or_malformed_signature_is_false_not_an_exception(string why, string? signature)
    {
        var body = TestVectors.Named(TestVectors.CompactSeedName).Body;
        var verifier = new WebhookVerifier(TestVectors.GuideSecret);
        Assert.True(verifier.Verify(body, SeedSignature)); // the body and secret are right: only the header is bad

        Assert.False(verifier.Verify(body, signature), why);
    }

    [Fact]
    public void Uppercase_hex_of_the_right_signature_verifies_leniently()
    {
        // Lenient on purpose: hex case does not change the bytes compared. (Python's hmac.compare_digest on the
        // hex strings, as in the guide, would reject it; a receiver using this verifier accepts it.)
        var body = TestVectors.Named(TestVectors.CompactSeedName).Body;
        var verifier = new WebhookVerifier(TestVectors.GuideSecret);

        Assert.True(verifier.Verify(body, SeedSignature.ToUpperInvariant()));
        Assert.True(verifier.Verify(body, "sha256=" + SeedSignature.ToUpperInvariant()));
    }

    [Fact]
    public void The_header_lookup_reads_X_Hokusai_Signature()
    {
        var vector = TestVectors.Named("health probe body");
        var verifier = new WebhookVerifier(vector.Secret);
        var asked = new List<string>();

        Assert.True(verifier.Verify(vector.Body, name =>
        {
            asked.Add(name);
            return name == "X-Hokusai-Signature" ? vector.Signature : null;
        }));

        Assert.Equal(["X-Hokusai-Signature"], asked);
        Assert.Equal("X-Hokusai-Signature", WebhookHeaders.Signature);
        Assert.Equal(WebhookHeaders.Signature, TestVectors.Header);
    }

    [Fact]
    public void The_header_lookup_is_false_when_the_header_is_absent()
    {
        var vector = TestVectors.Named("health probe body");

        Assert.False(new WebhookVerifier(vector.Secret).Verify(vector.Body, _ => null));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void An_empty_secret_is_refused_by_signer_and_verifier(string? secret)
    {
        var signer = Assert.Throws<ArgumentException>(() => new WebhookSigner(secret!));
        var verifier = Assert.Throws<ArgumentException>(() => new WebhookVerifier(secret!));

        foreach (var error in new[] { signer, verifier })
        {
            // The message names the parameter, never a value.
            Assert.Equal("secret", error.ParamName);
            Assert.Contains("secret must not be empty", error.Message);
        }
    }

    [Fact]
    public void ToString_never_prints_the_secret()
    {
        const string secret = "hunter2-0123456789abcdef";

        var signer = new WebhookSigner(secret);
        var prefixed = new WebhookSigner(secret, SignatureFormat.Sha256Prefixed);
        var verifier = new WebhookVerifier(secret);

        Assert.DoesNotContain("hunter2", signer.ToString());
        Assert.DoesNotContain("hunter2", prefixed.ToString());
        Assert.DoesNotContain("hunter2", verifier.ToString());
        Assert.DoesNotContain("hunter2", $"{signer} {verifier}");
    }
}
