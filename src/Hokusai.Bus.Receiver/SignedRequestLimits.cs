namespace Hokusai.Bus.Receiver;

/// <summary>How large a signed request's body may be, and how long it may take to arrive (<see cref="SignedRequestReader"/>).</summary>
/// <param name="MaxBodyBytes">The largest body accepted; a larger one is refused with 413 without being read further.</param>
/// <param name="BodyTimeout">The whole body must arrive within this; a body that trickles in or stalls is cut off with 408.</param>
/// <param name="Setting">The setting that gives <paramref name="MaxBodyBytes"/>, named in the 413's reason; none by default.</param>
public sealed record SignedRequestLimits(long MaxBodyBytes, TimeSpan BodyTimeout, string? Setting = null)
{
    /// <summary>The default size limit: 1 MiB.</summary>
    public const long DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>The default time limit: 10 s.</summary>
    public static readonly TimeSpan DefaultBodyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>" (SETTING)" when a setting is named, else nothing.</summary>
    internal string Named => Setting is null ? "" : $" ({Setting})";
}
