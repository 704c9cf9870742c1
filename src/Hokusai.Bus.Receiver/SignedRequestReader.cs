using System.Buffers;
using Hokusai.Bus.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Hokusai.Bus.Receiver;

/// <summary>
/// Reads one signed webhook request the way every Hokusai endpoint does, the receiver's <c>MapHokusaiWebhook</c> and
/// the host's <c>/ingest</c> alike: the exact body bytes, bounded in size (413, at once when <c>Content-Length</c> says
/// so) and in time (408 for a body that trickles in or stalls; 400 for one the server cannot read, such as broken
/// chunking), then every signature the request must carry verified over those bytes (401), and the nonce of a
/// DeltaOne-signed request checked against those seen lately (409). Use it to build an endpoint
/// of your own, for a body shape <c>MapHokusaiWebhook</c> does not parse.
/// </summary>
/// <param name="verifier">The secrets, and whether Standard Webhooks headers are required.</param>
/// <param name="limits">How large the body may be and how long it may take to arrive.</param>
/// <param name="nonces">
/// Where the nonces of DeltaOne-signed requests are remembered, so one sent again within the window is refused (409);
/// without it, replays within the timestamp tolerance are not detected.
/// </param>
public sealed class SignedRequestReader(HokusaiWebhook verifier, SignedRequestLimits limits, NonceMemory? nonces = null)
{
    /// <summary>Reads and verifies the request of <paramref name="context"/>. Dispose the result to return its buffer.</summary>
    public async Task<SignedRequest> ReadAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (body, length, refusal) = await ReadBodyAsync(context).ConfigureAwait(false);
        var request = new SignedRequest(body, length, refusal);
        if (request.Refusal is null && !request.Abandoned)
        {
            var verification = verifier.Verify(request.Body.Span, name => Header(context.Request, name));
            if (!verification.IsValid)
            {
                request.Refuse(new SignedRequestRefusal(StatusCodes.Status401Unauthorized, SignedRequestRefusal.Signature, verification.Reason!));
            }
            else if (verification.Nonce is { } nonce)
            {
                request.SignedWithNonce = true;
                if (nonces is not null && !nonces.TryRemember(nonce))
                {
                    request.Refuse(new SignedRequestRefusal(StatusCodes.Status409Conflict, SignedRequestRefusal.Replay,
                        $"{WebhookHeaders.Nonce} was already used within the last {nonces.Window.TotalMinutes:0.#} minutes: a replay is refused."));
                }
            }
        }

        return request;
    }

    /// <summary>A header's values joined by spaces (several <c>webhook-signature</c> lines are one list), or null.</summary>
    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count > 0
            ? values.Count == 1 ? values[0] : string.Join(' ', values.ToArray())
            : null;

    private async Task<(byte[] Body, int Length, SignedRequestRefusal? Refusal)> ReadBodyAsync(HttpContext context)
    {
        var limit = limits.MaxBodyBytes;
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return ([], 0, TooLarge($"The body is {request.ContentLength} bytes; the limit is {limit}{limits.Named}."));
        }

        // The limit replaces the server's own (Kestrel's 30 MB), so the answer names this one; the loop below stops
        // one byte past it. Kestrel's minimum data rate (240 B/s) still applies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        // Room for one byte over the limit, so that a body without Content-Length is seen to be too large.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, (request.ContentLength ?? 16 * 1024) + 1));
        CancellationTokenSource? deadline = null;
        var length = 0;
        try
        {
            // Most bodies arrive with their headers: one already here in full is taken at once, with no deadline to arm.
            if (request.ContentLength is { } expected && TryTakeWhole(request.BodyReader, expected, buffer))
            {
                return (buffer, (int)expected, null);
            }

            deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(limits.BodyTimeout);
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Full but not over the limit (that returned below): grow, up to one byte over it.
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var room = (int)Math.Min(buffer.Length, limit + 1L) - length;
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, room), deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length, null);
                }

                length += read;
                if (length > limit)
                {
                    return (buffer, length, TooLarge($"The body is over the limit of {limit} bytes{limits.Named}."));
                }
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return (buffer, length, new SignedRequestRefusal(StatusCodes.Status408RequestTimeout, SignedRequestRefusal.SlowBody,
                $"The body did not arrive within {limits.BodyTimeout.TotalSeconds:0.#} s ({length} bytes came); it was cut off."));
        }
        catch (BadHttpRequestException e)
        {
            // The server's own cut-off: data slower than its minimum rate (408), a malformed chunked body (400).
            var reason = e.StatusCode switch
            {
                StatusCodes.Status408RequestTimeout => SignedRequestRefusal.SlowBody,
                StatusCodes.Status413PayloadTooLarge => SignedRequestRefusal.Size,
                _ => SignedRequestRefusal.Malformed,
            };
            return (buffer, length, new SignedRequestRefusal(e.StatusCode, reason, SafeText.Of(e.Message, 200)));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return (buffer, length, SignedRequestRefusal.Gone); // the sender went away: there is no one to answer
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    /// <summary>
    /// Copies the body into <paramref name="buffer"/> when the server already holds all <paramref name="expected"/>
    /// bytes of it; otherwise takes nothing, so the timed reads see every byte.
    /// </summary>
    private static bool TryTakeWhole(System.IO.Pipelines.PipeReader body, long expected, byte[] buffer)
    {
        if (!body.TryRead(out var ready))
        {
            return false;
        }

        if (ready is { IsCompleted: true, IsCanceled: false } && ready.Buffer.Length == expected)
        {
            ready.Buffer.CopyTo(buffer);
            body.AdvanceTo(ready.Buffer.End);
            return true;
        }

        body.AdvanceTo(ready.Buffer.Start);
        return false;
    }

    private static SignedRequestRefusal TooLarge(string detail) =>
        new(StatusCodes.Status413PayloadTooLarge, SignedRequestRefusal.Size, detail);
}
