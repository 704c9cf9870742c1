using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hokusai.Bus;

/// <summary>Readiness: Redis trouble is reported as degraded, never as the host being down (webhooks still flow).</summary>
internal sealed class RedisFallbackHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var multiplexer = await redis.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.IsConnected
            ? HealthCheckResult.Healthy("Redis fallback connected.")
            : new HealthCheckResult(context.Registration.FailureStatus,
                "Redis is unreachable; fallback messages wait in hokusai-redis-fallback and are retried.");
    }
}
