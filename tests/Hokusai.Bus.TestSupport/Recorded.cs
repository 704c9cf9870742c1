namespace Hokusai.Bus.TestSupport;

/// <summary>
/// What a test awaits instead of sleeping or polling: a recorder changes its state inside <see cref="Record"/>, and
/// every wait whose condition now holds is released there and then. A wait that times out says what it awaited and,
/// through the recorder's <c>seen</c>, what had been recorded by then.
/// </summary>
/// <param name="seen">Describes what was recorded so far, for the timeout message.</param>
public sealed class Recorded(Func<string> seen)
{
    private static readonly object Held = new();
    private readonly Lock _gate = new();
    private readonly List<Func<bool>> _waiters = [];

    /// <summary>Runs <paramref name="record"/> under the lock, then releases each wait it satisfied.</summary>
    public void Record(Action record)
    {
        lock (_gate)
        {
            record();
            _waiters.RemoveAll(release => release());
        }
    }

    /// <summary>Reads under the same lock as <see cref="Record"/>: a consistent snapshot of several fields.</summary>
    public T Read<T>(Func<T> read)
    {
        lock (_gate)
        {
            return read();
        }
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked now and after every record.</summary>
    public Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitAsync(() => condition() ? Held : null, timeout, what);

    /// <summary>Completes with what <paramref name="find"/> finds, checked now and after every record.</summary>
    public async Task<T> WaitAsync<T>(Func<T?> find, TimeSpan timeout, string what)
        where T : class
    {
        var found = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<bool> release = () => find() is { } value && found.TrySetResult(value);
        lock (_gate)
        {
            if (!release())
            {
                _waiters.Add(release);
            }
        }

        try
        {
            return await found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.Remove(release);
            }

            throw new TimeoutException($"Not within {timeout.TotalSeconds} s: {what}; seen {Read(seen)}.");
        }
    }
}
