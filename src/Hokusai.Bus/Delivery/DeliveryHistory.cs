using System.Globalization;
using System.Text;
using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// What has happened to one message so far, carried in its headers through every redelivery, host restart, channel
/// closure and requeue, so that its retry schedule never starts over.
/// </summary>
/// <param name="Attempts">Attempts that counted against <c>WEBHOOK_MAX_RETRIES</c> (a failed half-open trial does not).</param>
/// <param name="FirstAttemptAt">When the first attempt was made.</param>
/// <param name="LastFailureAt">When the last failed attempt was made.</param>
/// <param name="ExhaustedAt">When the retries ran out, if they have.</param>
/// <param name="LastReason">Why the last attempt failed, sanitized.</param>
/// <param name="Redeliveries">How often the message waited in RabbitMQ rather than in the host.</param>
/// <param name="Requests">
/// Requests made so far, failed breaker trials included: the number the receiver saw, which attempts are numbered by.
/// </param>
internal sealed record DeliveryHistory(
    int Attempts = 0,
    DateTimeOffset? FirstAttemptAt = null,
    DateTimeOffset? LastFailureAt = null,
    DateTimeOffset? ExhaustedAt = null,
    string? LastReason = null,
    int Redeliveries = 0,
    int Requests = 0)
{
    public const string AttemptsHeader = "Hokusai-Attempts";
    public const string FirstAttemptHeader = "Hokusai-First-Attempt";
    public const string LastFailureHeader = "Hokusai-Last-Failure";
    public const string ExhaustedHeader = "Hokusai-Exhausted";
    public const string LastReasonHeader = "Hokusai-Last-Reason";
    public const string RedeliveriesHeader = "Hokusai-Redeliveries";
    public const string RequestsHeader = "Hokusai-Requests";

    /// <summary>The history in <paramref name="headers"/>; a header that is missing or unreadable reads as unknown.</summary>
    public static DeliveryHistory From(Headers headers)
    {
        var attempts = Int(headers, AttemptsHeader);
        // A message from a version that did not count requests made at least its counted attempts.
        return new(attempts, Time(headers, FirstAttemptHeader), Time(headers, LastFailureHeader), Time(headers, ExhaustedHeader),
            Text(headers, LastReasonHeader), Int(headers, RedeliveriesHeader), Math.Max(attempts, Int(headers, RequestsHeader)));
    }

    /// <summary>The headers that carry this history, as strings (RabbitMQ and every other transport keep them).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToHeaders()
    {
        yield return new(AttemptsHeader, Attempts.ToString(CultureInfo.InvariantCulture));
        yield return new(RedeliveriesHeader, Redeliveries.ToString(CultureInfo.InvariantCulture));
        yield return new(RequestsHeader, Requests.ToString(CultureInfo.InvariantCulture));
        if (FirstAttemptAt is { } first)
        {
            yield return new(FirstAttemptHeader, first.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        }

        if (LastFailureAt is { } failed)
        {
            yield return new(LastFailureHeader, failed.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        }

        if (ExhaustedAt is { } exhausted)
        {
            yield return new(ExhaustedHeader, exhausted.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        }

        if (LastReason is { } reason)
        {
            yield return new(LastReasonHeader, reason);
        }
    }

    /// <summary>This history after the attempt made at <paramref name="at"/> succeeded.</summary>
    public DeliveryHistory Succeeded(DateTimeOffset at) => this with { Requests = Requests + 1, FirstAttemptAt = FirstAttemptAt ?? at };

    /// <summary>This history after a failed attempt that <paramref name="counts"/> (or not: a failed trial).</summary>
    public DeliveryHistory Failed(DateTimeOffset at, string reason, bool counts) => this with
    {
        Attempts = counts ? Attempts + 1 : Attempts,
        Requests = Requests + 1,
        FirstAttemptAt = FirstAttemptAt ?? at,
        LastFailureAt = at,
        LastReason = SafeText.Of(reason, 200),
    };

    private static string? Text(Headers headers, string name) =>
        headers.TryGetHeader(name, out var value)
            ? value switch
            {
                string text => text,
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                null => null,
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            }
            : null;

    private static int Int(Headers headers, string name) =>
        int.TryParse(Text(headers, name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static DateTimeOffset? Time(Headers headers, string name) =>
        DateTimeOffset.TryParse(Text(headers, name), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;
}
