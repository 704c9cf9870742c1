namespace Hokusai.Bus.Contracts;

/// <summary>The outcome of <see cref="StandardWebhookVerifier.VerifyDetailed"/>.</summary>
public enum StandardWebhookVerificationResult
{
    /// <summary>A signature matched and the timestamp is within the tolerance.</summary>
    Valid = 0,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c> or <c>webhook-signature</c> is missing or empty.</summary>
    MissingHeaders = 1,

    /// <summary><c>webhook-timestamp</c> is not a whole number of seconds since the Unix epoch.</summary>
    InvalidTimestamp = 2,

    /// <summary>The timestamp is older than the tolerance allows: possibly a replay.</summary>
    TimestampTooOld = 3,

    /// <summary>The timestamp is further in the future than the tolerance allows.</summary>
    TimestampTooNew = 4,

    /// <summary>No <c>v1</c> entry of <c>webhook-signature</c> is the signature of this id, timestamp and body under any secret.</summary>
    NoMatchingSignature = 5,
}
