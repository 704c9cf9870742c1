using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;
using Hokusai.Bus.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Tests.Contracts;

/// <summary>
/// The pipeline's DeltaOne signing, against the known answers its own sender made (<c>TestData/deltaone-event.json</c>):
/// our signer makes the same signatures, <see cref="HokusaiWebhook"/> verifies them as the pipeline's
/// <c>verify_signature</c> does and refuses stale or future timestamps, a signature without the nonce or over other
/// bytes, and a missing header; and the idempotency key a DeltaOne event is given.
/// </summary>
public sealed class DeltaOneTests
{
    public static TheoryData<string> Vectors => TestVectors.DeltaOneNames();

    private static DeltaOneVector Vector(string name) => TestVectors.DeltaOne.Single(v => v.Name == name);

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Our_signer_makes_the_pipelines_signature_byte_for_byte(string name)
    {
        var vector = Vector(name);

        Assert.Equal(vector.Signature, new DeltaOneSigner(vector.Secret).Sign(vector.Body, vector.Timestamp, vector.Nonce));
        Assert.Equal("Hokusai-DeltaOne/1.0", vector.Headers["User-Agent"]);
        Assert.Equal(DeltaOneSigner.UserAgent, vector.Headers["User-Agent"]);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void The_pipelines_request_verifies_at_its_time_and_names_its_nonce(string name)
    {
        var vector = Vector(name);

        var result = Verifier(vector, at: 0).Verify(vector.Body, Headers(vector));

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(vector.Nonce, result.Nonce);
    }

    [Theory]
    [InlineData(-301, "X-Hokusai-Timestamp is 301 s in the past")]
    [InlineData(301, "X-Hokusai-Timestamp is 301 s in the future")]
    public void A_timestamp_more_than_5_minutes_from_now_is_refused_naming_the_header(int offsetSeconds, string reason)
    {
        var vector = TestVectors.DeltaOne[0];

        // The clock is moved the other way: the request's timestamp is then that far from now.
        var result = Verifier(vector, at: -offsetSeconds).Verify(vector.Body, Headers(vector));

        Assert.False(result.IsValid);
        Assert.StartsWith(reason, result.Reason, StringComparison.Ordinal);
        Assert.True(Verifier(vector, at: 299).Verify(vector.Body, Headers(vector)).IsValid); // within 5 minutes is fine
    }

    [Fact]
    public void A_signature_made_without_the_nonce_over_other_bytes_or_with_a_header_missing_is_refused()
    {
        var vector = TestVectors.DeltaOne[0];
        var verifier = Verifier(vector, at: 0);
        var withoutNonce = new WebhookSigner(vector.Secret, SignatureFormat.Sha256Prefixed).Sign(vector.Body);
        var otherBytes = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(vector.Body).Replace("1.25", "1.26", StringComparison.Ordinal));

        Assert.False(verifier.Verify(vector.Body, Headers(vector, signature: withoutNonce)).IsValid);
        Assert.False(verifier.Verify(otherBytes, Headers(vector)).IsValid);
        Assert.False(verifier.Verify(vector.Body, Headers(vector, nonce: Guid.NewGuid().ToString())).IsValid);
        Assert.Equal("X-Hokusai-Nonce is missing (it is required with X-Hokusai-Timestamp)",
            verifier.Verify(vector.Body, Headers(vector, nonce: "")).Reason);
        Assert.Equal("X-Hokusai-Timestamp is missing (it is required with X-Hokusai-Nonce)",
            verifier.Verify(vector.Body, Headers(vector, timestamp: "")).Reason);
        Assert.Equal("X-Hokusai-Timestamp is not a unix time in whole seconds",
            verifier.Verify(vector.Body, Headers(vector, timestamp: "1765015200.5")).Reason);
        Assert.Equal("X-Hokusai-Signature is missing", verifier.Verify(vector.Body, Headers(vector, signature: "")).Reason);
        Assert.DoesNotContain(vector.Signature[7..], verifier.Verify(otherBytes, Headers(vector)).Reason!, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nonce_is_refused_the_second_time_within_its_window_and_forgotten_after()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddSeconds(1_765_015_200));
        var nonces = new NonceMemory(time: time);

        Assert.True(nonces.TryRemember("3f2b8c1e"));
        Assert.False(nonces.TryRemember("3f2b8c1e"));
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.False(nonces.TryRemember("3f2b8c1e")); // a timestamp 5 minutes ahead stays valid for 10 minutes
        time.Advance(TimeSpan.FromMinutes(1.1));
        Assert.True(nonces.TryRemember("3f2b8c1e"));
    }

    [Fact]
    public void A_full_nonce_memory_forgets_the_oldest_first()
    {
        var nonces = new NonceMemory(capacity: 3);

        foreach (var nonce in new[] { "a", "b", "c", "d" })
        {
            Assert.True(nonces.TryRemember(nonce));
        }

        Assert.False(nonces.TryRemember("d"));
        Assert.True(nonces.TryRemember("a")); // forgotten to make room
    }

    [Fact]
    public void A_deltaone_events_key_is_stable_for_one_event_and_differs_between_events()
    {
        var achieved = TestVectors.DeltaOne.Single(v => v.EventType == "deltaone.achieved");
        var minted = TestVectors.DeltaOne.Single(v => v.EventType == "deltaone.minted");
        var failed = TestVectors.DeltaOne.Single(v => v.EventType == "deltaone.reward_ingest_failed");

        // achieved and minted: event type, run id and attestation hash, whatever else the body says.
        var attestation = "0x" + string.Concat(Enumerable.Repeat("cd", 32));
        Assert.Equal(IdempotencyKey.UuidV5($"deltaone:deltaone.achieved:run-abc:{attestation}").ToString(),
            DeltaOneEventKey.For("deltaone.achieved", achieved.Body));
        Assert.Equal(IdempotencyKey.UuidV5($"deltaone:deltaone.minted:run-abc:{attestation}").ToString(),
            DeltaOneEventKey.For("deltaone.minted", minted.Body));
        var mintedAgain = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(minted.Body).Replace("10:00:05.5", "10:07:00", StringComparison.Ordinal));
        Assert.Equal(DeltaOneEventKey.For("deltaone.minted", minted.Body), DeltaOneEventKey.For("deltaone.minted", mintedAgain));
        Assert.NotEqual(DeltaOneEventKey.For("deltaone.achieved", achieved.Body), DeltaOneEventKey.For("deltaone.minted", minted.Body));

        // reward_ingest_failed: the mint request's key and status when the body has them, else the body's hash.
        var withKey = """{"error":"x","event_type":"deltaone.reward_ingest_failed","idempotency_key":"mint-1","status":"pending"}"""u8.ToArray();
        Assert.Equal(IdempotencyKey.UuidV5("deltaone:deltaone.reward_ingest_failed:mint-1:pending").ToString(),
            DeltaOneEventKey.For("deltaone.reward_ingest_failed", withKey));
        Assert.Equal(
            IdempotencyKey.UuidV5("deltaone:deltaone.reward_ingest_failed:sha256:"
                + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(failed.Body))).ToString(),
            DeltaOneEventKey.For("deltaone.reward_ingest_failed", failed.Body));
    }

    private static HokusaiWebhook Verifier(DeltaOneVector vector, int at) =>
        new([vector.Secret], time: new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(long.Parse(vector.Timestamp, System.Globalization.CultureInfo.InvariantCulture) + at)));

    private static Func<string, string?> Headers(DeltaOneVector vector, string? signature = null, string? timestamp = null, string? nonce = null)
    {
        var headers = new Dictionary<string, string>(vector.Headers, StringComparer.OrdinalIgnoreCase);
        void Set(string name, string? value)
        {
            if (value == "")
            {
                headers.Remove(name);
            }
            else if (value is not null)
            {
                headers[name] = value;
            }
        }

        Set(WebhookHeaders.Signature, signature);
        Set(WebhookHeaders.Timestamp, timestamp);
        Set(WebhookHeaders.Nonce, nonce);
        return name => headers.TryGetValue(name, out var value) ? value : null;
    }
}
