using System.Diagnostics.Metrics;

namespace Hokusai.Bus;

/// <summary>The Redis path's instruments, beside the webhook ones on meter <c>Hokusai.Bus</c>.</summary>
internal sealed class RedisFallbackMetrics
{
    private readonly Counter<long> _success;
    private readonly Counter<long> _failure;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _deferred;

    public RedisFallbackMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(HokusaiNames.MeterName);
        _success = meter.CreateCounter<long>("redis_publish_success", "{message}", "Registrations published to Redis.");
        _failure = meter.CreateCounter<long>("redis_publish_failure", "{message}",
            "Registrations Redis refused (a permanent error about the data); they are in hokusai-redis-fallback_error.");
        _retries = meter.CreateCounter<long>("redis_retry_count", "{retry}", "Retries after a Redis failure.");
        _deferred = meter.CreateCounter<long>("redis_deferred", "{message}",
            "Registrations handed to a RabbitMQ delay queue while Redis is unavailable.");
    }

    public void Published() => _success.Add(1);

    public void Failed() => _failure.Add(1);

    public void Retried() => _retries.Add(1);

    public void Deferred() => _deferred.Add(1);
}
