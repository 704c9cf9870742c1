namespace Hokusai.Bus.Receiver;

/// <summary>What <see cref="IIdempotencyStore.TryClaimAsync"/> found.</summary>
public enum IdempotencyClaimResult
{
    /// <summary>The key was free and is now claimed by the caller, who must mark it processed or release it.</summary>
    Claimed = 0,

    /// <summary>Another request holds the claim and is processing the key right now.</summary>
    InProgress = 1,

    /// <summary>The key was processed; the delivery is a duplicate.</summary>
    AlreadyProcessed = 2,
}

/// <summary>
/// Remembers which <c>idempotency_key</c>s were processed, so that a duplicate delivery is answered without running
/// the handler again. A key is first claimed (for a lease), then either marked processed (for the key's time to live)
/// or released, so the sender's retry can process it. Implementations must be thread-safe and atomic per key: of two
/// concurrent claims of one free key, exactly one gets <see cref="IdempotencyClaimResult.Claimed"/>.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="key"/> for <paramref name="owner"/> for at most <paramref name="lease"/>, unless it is claimed or processed.</summary>
    /// <param name="key">The delivery's <c>idempotency_key</c>.</param>
    /// <param name="owner">A token unique to this attempt; <see cref="ReleaseAsync"/> only frees a claim with the same owner.</param>
    /// <param name="lease">When the claim lapses by itself if neither marked nor released (the process died).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask<IdempotencyClaimResult> TryClaimAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Records that <paramref name="key"/> was processed; it stays a duplicate for <paramref name="ttl"/>.</summary>
    /// <param name="key">The delivery's <c>idempotency_key</c>.</param>
    /// <param name="ttl">How long duplicates are recognised.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask MarkProcessedAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Frees <paramref name="key"/> if <paramref name="owner"/> still holds its claim, so a retry can process it.</summary>
    /// <param name="key">The delivery's <c>idempotency_key</c>.</param>
    /// <param name="owner">The token given to <see cref="TryClaimAsync"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default);
}
