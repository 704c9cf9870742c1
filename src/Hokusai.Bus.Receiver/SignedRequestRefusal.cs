using Microsoft.AspNetCore.Http;

namespace Hokusai.Bus.Receiver;

/// <summary>Why <see cref="SignedRequestReader"/> refused a request before its body was parsed, and the status to answer.</summary>
/// <param name="Status">413, 408, 400, 401 or 409; 0 when the sender went away and nothing can be answered.</param>
/// <param name="Reason">One word for metrics and logs: <c>size</c>, <c>slow_body</c>, <c>malformed</c>, <c>signature</c>, <c>replay</c>.</param>
/// <param name="Detail">One sentence for the sender: what was wrong and the limit it broke. Never a signature or secret.</param>
public sealed record SignedRequestRefusal(int Status, string Reason, string Detail)
{
    /// <summary>The body is over the size limit.</summary>
    public const string Size = "size";

    /// <summary>The body did not arrive in time.</summary>
    public const string SlowBody = "slow_body";

    /// <summary>The server could not read the body (broken chunking, say).</summary>
    public const string Malformed = "malformed";

    /// <summary>A signature the request must carry is missing or does not verify.</summary>
    public const string Signature = "signature";

    /// <summary>A DeltaOne nonce seen lately: the request was sent before.</summary>
    public const string Replay = "replay";

    /// <summary>The sender went away while its body was being read.</summary>
    internal static SignedRequestRefusal Gone { get; } = new(0, "gone", "the sender went away");

    /// <summary>
    /// Sets the answer's status; for a body left unread (408, 413) also <c>Connection: close</c>, since the connection
    /// cannot carry another request. The caller writes its own body.
    /// </summary>
    public void Prepare(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = Status;
        if (Status is StatusCodes.Status408RequestTimeout or StatusCodes.Status413PayloadTooLarge)
        {
            response.Headers.Connection = "close";
        }
    }
}
