namespace Hokusai.Bus.Cli.Receiving;

/// <summary>What the receiver did with one request.</summary>
internal enum ReceiptKind
{
    /// <summary>Verified, new key: the handler ran.</summary>
    Delivered,

    /// <summary>Verified, key already processed: answered <c>already_processed</c> without running the handler.</summary>
    Duplicate,

    /// <summary>Refused by the receiver library: bad signature (401), not a registration (400), in progress (409)...</summary>
    Refused,

    /// <summary>Answered 500 on purpose (<see cref="ReceiverBehaviour.FailFirst"/>).</summary>
    SimulatedFailure,

    /// <summary>Answered 503 on purpose (<see cref="ReceiverBehaviour.DownFor"/>).</summary>
    SimulatedDown,
}
