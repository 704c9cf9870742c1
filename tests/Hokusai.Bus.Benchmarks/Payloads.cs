using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Benchmarks;

/// <summary>
/// A registration as the Python pipeline publishes it: the guide's payload through <c>json.dumps</c> (default
/// separators, so with spaces), padded to a target size with an extra metadata key. Every message differs only in its
/// idempotency key (which carries the phase and sequence number, see <see cref="Phase.Key"/>) and its timestamp (the
/// publish time, full precision); both have a fixed length, so a body is the template with two slices overwritten.
/// </summary>
internal sealed class Payload
{
    private const string KeyMark = "@@KEY@@";
    private const string TimeMark = "@@TIME@@";
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"; // fixed length, 28 characters

    private readonly byte[] _template;
    private readonly int _keyAt;
    private readonly int _timeAt;

    public Payload(int targetBytes)
    {
        TargetBytes = targetBytes;
        var sampleKey = Phase.Key(0, 0);
        var sampleTime = DateTime.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture);
        var withoutPad = Json(KeyMark, TimeMark, "");
        var fixedLength = Encoding.UTF8.GetByteCount(withoutPad) - KeyMark.Length - TimeMark.Length
                          + sampleKey.Length + sampleTime.Length;
        var padding = new string('x', Math.Max(0, targetBytes - fixedLength));
        var json = Json(KeyMark, TimeMark, padding);

        _keyAt = Encoding.UTF8.GetByteCount(json.AsSpan(0, json.IndexOf(KeyMark, StringComparison.Ordinal)));
        json = json.Replace(KeyMark, sampleKey, StringComparison.Ordinal);
        _timeAt = Encoding.UTF8.GetByteCount(json.AsSpan(0, json.IndexOf(TimeMark, StringComparison.Ordinal)));
        json = json.Replace(TimeMark, sampleTime, StringComparison.Ordinal);
        _template = Encoding.UTF8.GetBytes(json);

        // What the host sends for it: the contracts' compact re-serialization (the raw HTTP baseline sends these bytes).
        Registration = ModelRegisteredJson.Deserialize(_template);
        DeliveredBody = ModelRegisteredJson.Serialize(Registration);
    }

    public int TargetBytes { get; }

    /// <summary>Bytes of one published message.</summary>
    public int PublishedBytes => _template.Length;

    /// <summary>The registration, for producers that build it as an object (the sequential peer).</summary>
    public ModelRegistered Registration { get; }

    /// <summary>The body the host POSTs for a message of this template.</summary>
    public byte[] DeliveredBody { get; }

    public string Label => TargetBytes >= 1024 ? $"{TargetBytes / 1024} KB" : $"{TargetBytes} B";

    /// <summary>The published bytes of message <paramref name="seq"/> of <paramref name="phase"/>, stamped with now.</summary>
    public byte[] Body(int phase, int seq)
    {
        var body = (byte[])_template.Clone();
        Encoding.ASCII.GetBytes(Phase.Key(phase, seq), body.AsSpan(_keyAt));
        Encoding.ASCII.GetBytes(DateTime.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture), body.AsSpan(_timeAt));
        return body;
    }

    private static string Json(string key, string time, string padding)
    {
        // Python's json.dumps(payload): ", " and ": " separators, keys in the guide's order.
        var metadata = "{\"model_name\": \"sentiment-analyzer\", \"mlflow_run_id\": \"run_xyz789\", "
                       + "\"contributor_address\": \"0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb\", "
                       + "\"experiment_name\": \"production-models\", "
                       + "\"tags\": {\"environment\": \"production\", \"model_type\": \"classification\"}, "
                       + $"\"padding\": \"{padding}\"}}";
        return $"{{\"model_id\": \"model_bench_001\", \"idempotency_key\": \"{key}\", \"registered_version\": \"1\", "
               + $"\"timestamp\": \"{time}\", \"token_symbol\": \"BENCH\", "
               + $"\"baseline_metrics\": {{\"accuracy\": 0.85, \"f1_score\": 0.82}}, \"metadata\": {metadata}}}";
    }
}

/// <summary>
/// One measured batch of N messages: when each was sent (by the publisher or HTTP client) and when it arrived (at the
/// receiver or the raw AMQP consumer), keyed by sequence number, on the monotonic <see cref="Stopwatch"/> clock of this
/// process. Duplicates and bad signatures are counted, never hidden.
/// </summary>
internal sealed class Phase
{
    private static int _nextId;
    private readonly long[] _sent;
    private readonly long[] _arrived;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _distinct;
    private long _duplicates;
    private long _invalid;

    public Phase(int count)
    {
        Id = Interlocked.Increment(ref _nextId) % 10_000;
        Count = count;
        _sent = new long[count];
        _arrived = new long[count];
    }

    public int Id { get; }

    public int Count { get; }

    public int Distinct => Volatile.Read(ref _distinct);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Invalid => Interlocked.Read(ref _invalid);

    public Task Done => _done.Task;

    /// <summary><c>b&lt;phase:4&gt;-&lt;seq:9&gt;</c>: 15 ASCII characters.</summary>
    public static string Key(int phase, int seq) =>
        string.Create(CultureInfo.InvariantCulture, $"b{phase:D4}-{seq:D9}");

    public static bool TryParse(ReadOnlySpan<char> key, out int phase, out int seq)
    {
        phase = seq = 0;
        return key.Length == 15 && key[0] == 'b' && key[5] == '-'
               && int.TryParse(key.Slice(1, 4), NumberStyles.None, CultureInfo.InvariantCulture, out phase)
               && int.TryParse(key[6..], NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    public string KeyOf(int seq) => Key(Id, seq);

    public void MarkSent(int seq) => _sent[seq] = Stopwatch.GetTimestamp();

    /// <summary>Records an arrival; false for a sequence number out of range.</summary>
    public bool Arrive(int seq, bool signatureValid)
    {
        if ((uint)seq >= (uint)Count)
        {
            return false;
        }

        if (!signatureValid)
        {
            Interlocked.Increment(ref _invalid);
            return true;
        }

        var now = Stopwatch.GetTimestamp();
        if (Interlocked.CompareExchange(ref _arrived[seq], now, 0) != 0)
        {
            Interlocked.Increment(ref _duplicates);
            return true;
        }

        if (Interlocked.Increment(ref _distinct) == Count)
        {
            _done.TrySetResult();
        }

        return true;
    }

    /// <summary>Waits for every message, failing when nothing arrives for <paramref name="stall"/>.</summary>
    public async Task WaitAsync(TimeSpan stall, Func<string> diagnostics)
    {
        var seen = -1;
        while (!Done.IsCompleted)
        {
            await Task.WhenAny(Done, Task.Delay(stall));
            var now = Distinct;
            if (!Done.IsCompleted && now == seen)
            {
                throw new TimeoutException(
                    $"No progress for {stall.TotalSeconds} s: {now}/{Count} arrived, {Invalid} bad signatures, "
                    + $"{Duplicates} duplicates.\n{diagnostics()}");
            }

            seen = now;
        }
    }

    public long FirstSent => Min(_sent);

    public long LastArrival => Max(_arrived);

    public long FirstArrival => Min(_arrived);

    /// <summary>
    /// Messages per second between the arrival of the <paramref name="from"/> and the <paramref name="to"/> fraction of
    /// them (the steady middle of a drain, without the start-up of the consumers and the tail).
    /// </summary>
    public double SteadyRate(double from = 0.2, double to = 0.8)
    {
        var arrivals = _arrived.Where(t => t != 0).Order().ToArray();
        var (first, last) = ((int)(arrivals.Length * from), (int)(arrivals.Length * to) - 1);
        return (last - first) / Stopwatch.GetElapsedTime(arrivals[first], arrivals[last]).TotalSeconds;
    }

    /// <summary>Messages per second from the first send to the last arrival.</summary>
    public double Rate() => Count / Stopwatch.GetElapsedTime(FirstSent, LastArrival).TotalSeconds;

    /// <summary>Send-to-arrival latencies in milliseconds of every message that was sent and arrived.</summary>
    public Percentiles Latency()
    {
        var list = new List<double>(Count);
        for (var i = 0; i < Count; i++)
        {
            if (_sent[i] != 0 && _arrived[i] != 0)
            {
                list.Add(Stopwatch.GetElapsedTime(_sent[i], _arrived[i]).TotalMilliseconds);
            }
        }

        return Percentiles.Of(list);
    }

    /// <summary>Writes <c>seq,sent_ms,latency_ms</c> (sent relative to the first send) for a closer look at tails.</summary>
    public void Dump(string path)
    {
        var first = FirstSent;
        using var writer = new StreamWriter(path);
        writer.WriteLine("seq,sent_ms,latency_ms");
        for (var i = 0; i < Count; i++)
        {
            if (_sent[i] != 0)
            {
                var latency = _arrived[i] != 0 ? Stopwatch.GetElapsedTime(_sent[i], _arrived[i]).TotalMilliseconds : double.NaN;
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{i},{Stopwatch.GetElapsedTime(first, _sent[i]).TotalMilliseconds:0.000},{latency:0.000}"));
            }
        }
    }

    private static long Min(long[] values)
    {
        var min = long.MaxValue;
        foreach (var v in values)
        {
            if (v != 0 && v < min)
            {
                min = v;
            }
        }

        return min == long.MaxValue ? 0 : min;
    }

    private static long Max(long[] values)
    {
        var max = 0L;
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record Percentiles(int Samples, double P50, double P95, double P99, double Max)
{
    public static Percentiles Of(List<double> values)
    {
        if (values.Count == 0)
        {
            return new Percentiles(0, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        values.Sort();
        double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        return new Percentiles(values.Count, At(0.50), At(0.95), At(0.99), values[^1]);
    }
}
