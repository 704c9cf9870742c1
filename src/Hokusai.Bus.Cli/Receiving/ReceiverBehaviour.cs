namespace Hokusai.Bus.Cli.Receiving;

/// <summary>How the local receiver misbehaves on purpose, to watch the sender's retries and circuit breaker.</summary>
/// <param name="FailFirst">Answer 500 to this many first webhook requests, before looking at them.</param>
/// <param name="DownFor">Answer 503 to every webhook request for this long after starting.</param>
/// <param name="Status">Answer this status instead of a 2xx (after verifying and de-duplicating).</param>
/// <param name="Delay">Wait this long before answering each request.</param>
internal sealed record ReceiverBehaviour(int FailFirst = 0, TimeSpan DownFor = default, int? Status = null, TimeSpan Delay = default)
{
    public static ReceiverBehaviour Normal { get; } = new();
}
