using System.Text;
using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>
/// <see cref="StandardWebhookSigner"/> and <see cref="StandardWebhookVerifier"/> against fixed answers: the Standard
/// Webhooks specification's published example, and vectors computed with Python's hmac for UTF-8 secrets.
/// </summary>
public sealed class StandardWebhooksKnownAnswerTests
{
    // The specification's example (standardwebhooks.com), checked with Python's hmac before it was written here.
    private const string SpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string SpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long SpecTimestamp = 1614265330;
    private const string SpecBody = "{\"test\": 2432232314}";
    private const string SpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // hmac.new(b"your_shared_secret_here", f"{id}.{ts}.".encode() + body, sha256), base64: the guide's secret as UTF-8.
    private const string GuideSecret = "your_shared_secret_here";
    private const string GuideSecretSignature = "v1,Z6RcYMiy1yUT3wPgRRS44K3LMzPVyJ4Ej85SZD5zD1M=";

    // The same with a non-ASCII secret, UTF-8 encoded.
    private const string NonAsciiSecret = "clé-秘密";
    private const string NonAsciiSecretSignature = "v1,s1kfQCEmhhffWN+lA9hZOZSCBceeRCED7yhJM1NFKaQ=";

    // Empty body, id 550e8400-e29b-41d4-a716-446655440000, timestamp 1705314600, the guide's secret.
    private const string EmptyBodySignature = "v1,sNbafHu3W7GXXgV/5QFf9KizkC6fIfHgKaoSAXuOHRg=";

    private static readonly DateTimeOffset SpecTime = DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp);
    private static readonly byte[] SpecBodyBytes = Encoding.UTF8.GetBytes(SpecBody);

    private static Func<string, string?> Headers(string? id, string? timestamp, string? signature) => name => name switch
    {
        StandardWebhookHeaders.Id => id,
        StandardWebhookHeaders.Timestamp => timestamp,
        StandardWebhookHeaders.Signature => signature,
        _ => null,
    };

    private static Func<string, string?> SpecHeaders(string? signature = SpecSignature) =>
        Headers(SpecId, SpecTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), signature);

    private static StandardWebhookVerifier Verifier(string secret = SpecSecret, TimeSpan? offset = null) =>
        new(secret, time: new FakeTimeProvider(SpecTime + (offset ?? TimeSpan.Zero)));

    [Fact]
    public void The_spec_example_signs_to_the_published_signature()
    {
        Assert.Equal(SpecSignature, new StandardWebhookSigner(SpecSecret).Sign(SpecId, SpecTime, SpecBodyBytes));
    }

    [Fact]
    public void The_spec_example_verifies()
    {
        Assert.Equal(StandardWebhookVerificationResult.Valid, Verifier().VerifyDetailed(SpecBodyBytes, SpecHeaders()));
        Assert.True(Verifier().Verify(SpecBodyBytes, SpecHeaders()));
    }

    [Theory]
    [InlineData(GuideSecret, GuideSecretSignature)]
    [InlineData(NonAsciiSecret, NonAsciiSecretSignature)]
    public void A_secret_without_whsec_is_used_as_its_utf8_bytes(string secret, string expected)
    {
        Assert.Equal(expected, new StandardWebhookSigner(secret).Sign(SpecId, SpecTime, SpecBodyBytes));
        Assert.True(Verifier(secret).Verify(SpecBodyBytes, SpecHeaders(expected)));
    }

    [Fact]
    public void An_empty_body_has_a_known_signature()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1705314600);
        Assert.Equal(EmptyBodySignature,
            new StandardWebhookSigner(GuideSecret).Sign("550e8400-e29b-41d4-a716-446655440000", at, []));
    }

    [Fact]
    public void Only_whole_seconds_are_signed()
    {
        var signer = new StandardWebhookSigner(SpecSecret);
        Assert.Equal(SpecSignature, signer.Sign(SpecId, SpecTime.AddMilliseconds(999), SpecBodyBytes));
        Assert.Equal("1614265330", StandardWebhookHeaders.FormatTimestamp(SpecTime.AddMilliseconds(999)));
    }

    [Fact]
    public void Several_secrets_give_one_signature_each_in_order_and_each_verifies_alone()
    {
        var header = new StandardWebhookSigner(GuideSecret, SpecSecret).Sign(SpecId, SpecTime, SpecBodyBytes);

        Assert.Equal($"{GuideSecretSignature} {SpecSignature}", header);
        Assert.True(Verifier(SpecSecret).Verify(SpecBodyBytes, SpecHeaders(header)));
        Assert.True(Verifier(GuideSecret).Verify(SpecBodyBytes, SpecHeaders(header)));
        Assert.False(Verifier("a third secret").Verify(SpecBodyBytes, SpecHeaders(header)));
    }

    [Fact]
    public void A_verifier_with_several_secrets_accepts_a_signature_by_any_of_them()
    {
        var verifier = new StandardWebhookVerifier(["current", NonAsciiSecret, SpecSecret], time: new FakeTimeProvider(SpecTime));

        Assert.True(verifier.Verify(SpecBodyBytes, SpecHeaders(SpecSignature)));
        Assert.True(verifier.Verify(SpecBodyBytes, SpecHeaders(NonAsciiSecretSignature)));
        Assert.False(verifier.Verify(SpecBodyBytes, SpecHeaders(GuideSecretSignature)));
    }

    [Theory]
    [InlineData(-300, StandardWebhookVerificationResult.Valid)]
    [InlineData(-301, StandardWebhookVerificationResult.TimestampTooNew)]
    [InlineData(300, StandardWebhookVerificationResult.Valid)]
    [InlineData(301, StandardWebhookVerificationResult.TimestampTooOld)]
    [InlineData(86400, StandardWebhookVerificationResult.TimestampTooOld)]
    public void The_timestamp_must_be_within_five_minutes_of_now(int nowMinusSignedSeconds, StandardWebhookVerificationResult expected)
    {
        var verifier = Verifier(offset: TimeSpan.FromSeconds(nowMinusSignedSeconds));
        Assert.Equal(expected, verifier.VerifyDetailed(SpecBodyBytes, SpecHeaders()));
    }

    [Fact]
    public void The_tolerance_can_be_changed()
    {
        var verifier = new StandardWebhookVerifier(SpecSecret, TimeSpan.FromSeconds(10),
            new FakeTimeProvider(SpecTime + TimeSpan.FromSeconds(11)));

        Assert.Equal(TimeSpan.FromSeconds(10), verifier.Tolerance);
        Assert.Equal(StandardWebhookVerificationResult.TimestampTooOld, verifier.VerifyDetailed(SpecBodyBytes, SpecHeaders()));
        Assert.Equal(TimeSpan.FromMinutes(5), Verifier().Tolerance);
    }

    [Theory]
    [InlineData(null, "1614265330", SpecSignature)]
    [InlineData("", "1614265330", SpecSignature)]
    [InlineData(SpecId, null, SpecSignature)]
    [InlineData(SpecId, "", SpecSignature)]
    [InlineData(SpecId, "1614265330", null)]
    [InlineData(SpecId, "1614265330", "  ")]
    public void A_missing_header_is_reported(string? id, string? timestamp, string? signature)
    {
        Assert.Equal(StandardWebhookVerificationResult.MissingHeaders,
            Verifier().VerifyDetailed(SpecBodyBytes, Headers(id, timestamp, signature)));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1614265330")]
    [InlineData("+1614265330")]
    [InlineData("1614265330.5")]
    [InlineData("1614265330000000000000000")]
    [InlineData("1 614 265 330")]
    [InlineData("٣")] // a non-ASCII digit
    public void A_malformed_timestamp_is_reported(string timestamp)
    {
        Assert.Equal(StandardWebhookVerificationResult.InvalidTimestamp,
            Verifier().VerifyDetailed(SpecBodyBytes, Headers(SpecId, timestamp, SpecSignature)));
    }

    [Theory]
    [InlineData("9223372036854775807")] // long.MaxValue: no overflow, just too new
    [InlineData("99999999999")]
    public void A_far_future_timestamp_is_too_new_without_overflow(string timestamp)
    {
        Assert.Equal(StandardWebhookVerificationResult.TimestampTooNew,
            Verifier().VerifyDetailed(SpecBodyBytes, Headers(SpecId, timestamp, SpecSignature)));
    }

    [Theory]
    [InlineData("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE")] // truncated base64
    [InlineData("v1,")]
    [InlineData("v1")]
    [InlineData(",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")] // right MAC, unknown version
    [InlineData("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData("V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AAAA")] // too long
    [InlineData("v1,!!!!")]
    [InlineData("v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")] // one character changed
    [InlineData("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    public void A_wrong_or_malformed_signature_matches_nothing(string signature)
    {
        Assert.Equal(StandardWebhookVerificationResult.NoMatchingSignature,
            Verifier().VerifyDetailed(SpecBodyBytes, SpecHeaders(signature)));
    }

    [Theory]
    [InlineData("v1,bm90LWEtbWFj " + SpecSignature)]
    [InlineData(SpecSignature + " v1,bm90LWEtbWFj")]
    [InlineData("v1a,c29tZXRoaW5n   " + SpecSignature + "  ")]
    [InlineData("v1,!!!! \t" + SpecSignature)]
    public void One_matching_entry_among_several_is_enough(string signature)
    {
        Assert.True(Verifier().Verify(SpecBodyBytes, SpecHeaders(signature)));
    }

    [Fact]
    public void Changing_the_body_the_id_or_the_timestamp_breaks_the_signature()
    {
        var verifier = Verifier();
        Assert.False(verifier.Verify(Encoding.UTF8.GetBytes("{\"test\":2432232314}"), SpecHeaders()));
        Assert.False(verifier.Verify(SpecBodyBytes, Headers("msg_other", "1614265330", SpecSignature)));
        Assert.False(verifier.Verify(SpecBodyBytes, Headers(SpecId, "1614265331", SpecSignature)));
    }

    [Fact]
    public void Verification_never_throws_on_arbitrary_headers()
    {
        var random = new Random(20260301);
        var verifier = Verifier();
        const string alphabet = "v1,=+/ aZ09\t.-x\u00e9";
        for (var i = 0; i < 2000; i++)
        {
            string Noise() => new(Enumerable.Range(0, random.Next(0, 60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var body = new byte[random.Next(0, 64)];
            random.NextBytes(body);
            var result = verifier.VerifyDetailed(body, Headers(Noise(), random.Next(3) == 0 ? "1614265330" : Noise(), Noise()));
            Assert.NotEqual(StandardWebhookVerificationResult.Valid, result);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("whsec_")]
    [InlineData("whsec_not base64!")]
    public void A_bad_secret_is_refused_at_construction_without_showing_it(string secret)
    {
        var signer = Assert.Throws<ArgumentException>(() => new StandardWebhookSigner(secret));
        var verifier = Assert.Throws<ArgumentException>(() => new StandardWebhookVerifier(secret));
        if (secret.Length > "whsec_".Length)
        {
            Assert.DoesNotContain(secret, signer.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, verifier.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Construction_checks_its_arguments()
    {
        Assert.Throws<ArgumentException>(() => new StandardWebhookSigner());
        Assert.Throws<ArgumentException>(() => new StandardWebhookVerifier(Array.Empty<string>()));
        Assert.Throws<ArgumentException>(() => new StandardWebhookVerifier(["ok", ""]));
        Assert.Throws<ArgumentException>(() => new StandardWebhookSigner(Enumerable.Repeat("s", 9).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StandardWebhookVerifier("s", TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() => new StandardWebhookSigner("s").Sign("", SpecTime, SpecBodyBytes));
        Assert.Throws<ArgumentException>(() => new StandardWebhookSigner("s").Sign("msg 1", SpecTime, SpecBodyBytes));
    }

    [Fact]
    public void ToString_never_shows_a_secret()
    {
        Assert.DoesNotContain("MfKQ", new StandardWebhookSigner(SpecSecret).ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("MfKQ", Verifier().ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(GuideSecret, Verifier(GuideSecret).ToString(), StringComparison.Ordinal);
    }
}
