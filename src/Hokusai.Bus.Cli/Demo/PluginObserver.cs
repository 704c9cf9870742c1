using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Cli.Demo;

/// <summary>One log line of the plugin (category <c>Hokusai.Bus.*</c>), with its structured fields.</summary>
internal sealed record PluginLog(string Category, EventId EventId, LogLevel Level, IReadOnlyDictionary<string, object?> Fields, string Message)
{
    public string? Text(string field) => Fields.TryGetValue(field, out var value) ? value?.ToString() : null;

    public int Int(string field) =>
        Fields.TryGetValue(field, out var value) && value is IConvertible convertible
            ? convertible.ToInt32(System.Globalization.CultureInfo.InvariantCulture)
            : 0;

    public double Double(string field) =>
        Fields.TryGetValue(field, out var value) && value is IConvertible convertible
            ? convertible.ToDouble(System.Globalization.CultureInfo.InvariantCulture)
            : 0;
}

/// <summary>
/// Sees what the plugin does, through its public surfaces only: its debug logs (every attempt, retry, breaker change,
/// outcome) and its meter <c>Hokusai.Bus</c> (webhook_publish_success, webhook_publish_failure, webhook_retry_count,
/// webhook_circuit_breaker_state).
/// </summary>
internal sealed class PluginObserver : ILoggerProvider, IDisposable
{
    public const string MeterName = "Hokusai.Bus";
    public const string CategoryPrefix = "Hokusai.Bus";

    private readonly Action<PluginLog> _onLog;
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<(int Outcomes, TaskCompletionSource Done)> _waiters = [];
    private long _delivered;
    private long _failed;
    private long _retries;
    private long _loggedOutcomes;
    private int _breakerState;

    public PluginObserver(Action<PluginLog> onLog)
    {
        _onLog = onLog;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => OnMeasurement(instrument.Name, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => OnMeasurement(instrument.Name, value));
        _listener.Start();
    }

    /// <summary>webhook_publish_success so far: registrations delivered.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>webhook_publish_failure so far: registrations that exhausted their retries.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>webhook_retry_count so far.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>webhook_circuit_breaker_state now: 0 closed, 1 open, 2 half-open.</summary>
    public int BreakerState
    {
        get
        {
            _listener.RecordObservableInstruments();
            return Volatile.Read(ref _breakerState);
        }
    }

    /// <summary>
    /// Completes when delivered + failed (the meter) reaches <paramref name="outcomes"/> and the plugin has logged as many
    /// outcomes, so that every outcome line is printed first. Should the plugin's log events be renamed, the meter alone.
    /// </summary>
    public Task WaitForOutcomesAsync(int outcomes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (Reached(outcomes))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((outcomes, done));
        }

        return done.Task.WaitAsync(timeout, cancellationToken);
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(CategoryPrefix, StringComparison.Ordinal)
            ? new CapturingLogger(this, categoryName)
            : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(string instrument, long value)
    {
        switch (instrument)
        {
            case "webhook_publish_success":
                Interlocked.Add(ref _delivered, value);
                Release();
                break;
            case "webhook_publish_failure":
                Interlocked.Add(ref _failed, value);
                Release();
                break;
            case "webhook_retry_count":
                Interlocked.Add(ref _retries, value);
                break;
            case "webhook_circuit_breaker_state":
                Volatile.Write(ref _breakerState, (int)value);
                break;
        }
    }

    private bool Reached(int outcomes)
    {
        var measured = Delivered + Failed;
        var logged = Interlocked.Read(ref _loggedOutcomes);
        return measured >= outcomes && (logged >= outcomes || logged == 0);
    }

    private void OnOutcomeLogged()
    {
        Interlocked.Increment(ref _loggedOutcomes);
        Release();
    }

    private void Release()
    {
        lock (_gate)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (Reached(_waiters[i].Outcomes))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed class CapturingLogger(PluginObserver owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (name, value) in pairs)
                {
                    fields[name] = value;
                }
            }

            owner._onLog(new PluginLog(category, eventId, logLevel, fields, formatter(state, exception)));
            if (eventId.Name is "Delivered" or "DeliveryFailed")
            {
                owner.OnOutcomeLogged(); // after the line above is printed
            }
        }
    }
}
