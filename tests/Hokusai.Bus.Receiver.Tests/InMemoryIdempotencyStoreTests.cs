using Microsoft.Extensions.Time.Testing;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>The default store's claim, lease, release and expiry rules, on a fake clock.</summary>
public sealed class InMemoryIdempotencyStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryIdempotencyStore _store;

    public InMemoryIdempotencyStoreTests() => _store = new InMemoryIdempotencyStore(_time);

    [Fact]
    public async Task A_claimed_key_is_in_progress_for_others_until_marked_then_processed()
    {
        Assert.Equal(IdempotencyClaimResult.Claimed, await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5)));
        Assert.Equal(IdempotencyClaimResult.InProgress, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));

        await _store.MarkProcessedAsync("k", TimeSpan.FromHours(24));

        Assert.Equal(IdempotencyClaimResult.AlreadyProcessed, await _store.TryClaimAsync("k", "c", TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_released_key_can_be_claimed_again()
    {
        await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5));
        await _store.ReleaseAsync("k", "a");

        Assert.Equal(IdempotencyClaimResult.Claimed, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task Only_the_owner_releases_a_claim()
    {
        await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5));
        await _store.ReleaseAsync("k", "someone-else");

        Assert.Equal(IdempotencyClaimResult.InProgress, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_release_never_undoes_processed()
    {
        await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5));
        await _store.MarkProcessedAsync("k", TimeSpan.FromHours(1));
        await _store.ReleaseAsync("k", "a");

        Assert.Equal(IdempotencyClaimResult.AlreadyProcessed, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_claim_lapses_after_its_lease()
    {
        await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5));
        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal(IdempotencyClaimResult.InProgress, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(IdempotencyClaimResult.Claimed, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));

        await _store.ReleaseAsync("k", "a"); // the first owner's late release must not free the new claim
        Assert.Equal(IdempotencyClaimResult.InProgress, await _store.TryClaimAsync("k", "c", TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_processed_key_is_forgotten_after_its_ttl_and_swept()
    {
        await _store.TryClaimAsync("k", "a", TimeSpan.FromMinutes(5));
        await _store.MarkProcessedAsync("k", TimeSpan.FromHours(24));
        for (var i = 0; i < 10; i++)
        {
            await _store.TryClaimAsync($"other-{i}", "a", TimeSpan.FromMinutes(5));
        }

        _time.Advance(TimeSpan.FromHours(24));
        Assert.Equal(11, _store.Count);

        Assert.Equal(IdempotencyClaimResult.Claimed, await _store.TryClaimAsync("k", "b", TimeSpan.FromMinutes(5)));
        Assert.Equal(1, _store.Count); // the expired others were swept
    }

    [Fact]
    public async Task Of_many_concurrent_claims_of_one_key_exactly_one_wins()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            Task.Run(async () => await _store.TryClaimAsync("k", $"o{i}", TimeSpan.FromMinutes(5)))));

        Assert.Single(results, r => r == IdempotencyClaimResult.Claimed);
        Assert.Equal(63, results.Count(r => r == IdempotencyClaimResult.InProgress));
    }
}
