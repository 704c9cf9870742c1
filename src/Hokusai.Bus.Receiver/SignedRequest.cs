using System.Buffers;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// One request as <see cref="SignedRequestReader"/> read it: the exact body bytes, verified, or why it was refused. The
/// body lives in a pooled buffer until this is disposed.
/// </summary>
public sealed class SignedRequest : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal SignedRequest(byte[] buffer, int length, SignedRequestRefusal? refusal)
    {
        _buffer = buffer;
        _length = length;
        Refusal = refusal is { Status: 0 } ? null : refusal;
        Abandoned = refusal is { Status: 0 };
    }

    /// <summary>The body exactly as received (valid until disposed). Verified when <see cref="Refusal"/> is null.</summary>
    public ReadOnlyMemory<byte> Body => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, _length);

    /// <summary>Why the request is refused, with the status to answer; null when its signatures verified.</summary>
    public SignedRequestRefusal? Refusal { get; private set; }

    /// <summary>The sender went away while the body was read: there is no one to answer.</summary>
    public bool Abandoned { get; }

    /// <summary>It was signed the DeltaOne way (<c>X-Hokusai-Timestamp</c> and <c>X-Hokusai-Nonce</c>), and that verified.</summary>
    public bool SignedWithNonce { get; internal set; }

    internal void Refuse(SignedRequestRefusal refusal) => Refusal = refusal;

    /// <summary>Returns the body's buffer to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { Length: > 0 } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
