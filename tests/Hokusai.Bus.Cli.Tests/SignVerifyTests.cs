using Hokusai.Bus.TestSupport;
namespace Hokusai.Bus.Cli.Tests;

/// <summary>
/// <c>sign</c> and <c>verify</c> against every known answer in the shared signatures.json (Python's hmac): the exact
/// bytes of standard input or a file.
/// </summary>
public sealed class SignVerifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hokusai-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_shared_vectors_are_all_there() =>
        Assert.True(TestVectors.Positive.Count >= 9 && TestVectors.MustReject.Count >= 6,
            "signatures.json lost vectors; every one must go through the CLI.");

    [Theory]
    [MemberData(nameof(TestVectors.PositiveNames), MemberType = typeof(TestVectors))]
    public async Task Sign_prints_the_known_signature_of_stdin(string name)
    {
        var vector = TestVectors.Positive.Single(v => v.Name == name);

        var result = await CliProcess.RunAsync(["sign", "--secret", vector.Secret], vector.Body);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(vector.Signature, result.Output.Trim());
    }

    [Theory]
    [MemberData(nameof(TestVectors.PositiveNames), MemberType = typeof(TestVectors))]
    public async Task Verify_accepts_the_known_signature_of_a_file(string name)
    {
        var vector = TestVectors.Positive.Single(v => v.Name == name);
        var file = Path.Combine(_dir, "body.bin");
        await File.WriteAllBytesAsync(file, vector.Body);

        var result = await CliProcess.RunAsync(["verify", "--secret", vector.Secret, "--signature", vector.Signature, "--file", file]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("valid", result.Output.Trim());
    }

    [Theory]
    [MemberData(nameof(TestVectors.MustRejectNames), MemberType = typeof(TestVectors))]
    public async Task Verify_rejects_every_must_reject_vector(string name)
    {
        var vector = TestVectors.MustReject.Single(v => v.Name == name);

        var result = await CliProcess.RunAsync(["verify", "--secret", vector.Secret, "--signature", vector.Signature, "-f", "-"], vector.Body);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("invalid", result.Output.Trim());
    }

    [Theory]
    [InlineData("6a65107eef8d30e12d1f94f1fa7be1450b7c58248e6b2b1b90480e6cb0c75c", "it has 62 character(s).")]
    [InlineData("sha256=zz", "it has 2 character(s), not all hex.")]
    public async Task Verify_of_a_malformed_signature_says_what_a_signature_looks_like(string signature, string detail)
    {
        var result = await CliProcess.RunAsync(["verify", "--secret", "s", "--signature", signature], "{}"u8.ToArray());

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("invalid", result.Output.Trim());
        Assert.Equal($"--signature must be 64 hex characters or sha256=<64 hex characters>; {detail}", result.Error.Trim());
    }

    [Fact]
    public async Task A_wrong_but_well_formed_signature_is_just_invalid()
    {
        var result = await CliProcess.RunAsync(["verify", "--secret", "s", "--signature", new string('a', 64)], "{}"u8.ToArray());

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Error.Trim());
    }

    [Fact]
    public async Task Sign_of_empty_standard_input_warns_that_the_body_is_empty()
    {
        var result = await CliProcess.RunAsync(["sign", "--secret", "s"], []);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new Hokusai.Bus.Contracts.WebhookSigner("s").Sign([]), result.Output.Trim());
        Assert.Contains("standard input was empty, so the body is empty (0 bytes)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_of_a_file_equals_sign_of_stdin_and_the_sha256_format_verifies()
    {
        var vector = TestVectors.Positive[0];
        var file = Path.Combine(_dir, "seed.json");
        await File.WriteAllBytesAsync(file, vector.Body);

        var fromFile = await CliProcess.RunAsync("sign", "--secret", vector.Secret, "--file", file);
        var prefixed = await CliProcess.RunAsync(["sign", "--secret", vector.Secret, "--format", "sha256"], vector.Body);
        var verified = await CliProcess.RunAsync(["verify", "--secret", vector.Secret, "--signature", prefixed.Output.Trim()], vector.Body);

        Assert.Equal(vector.Signature, fromFile.Output.Trim());
        Assert.Equal("sha256=" + vector.Signature, prefixed.Output.Trim());
        Assert.True(verified.ExitCode == 0, verified.ToString());
    }
}
