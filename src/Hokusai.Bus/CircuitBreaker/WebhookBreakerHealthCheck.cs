using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hokusai.Bus;

/// <summary>
/// Readiness of webhook delivery: Degraded (HTTP 200, so no orchestrator restarts the host for an endpoint's outage)
/// while any endpoint's breaker is open or half-open, naming those endpoints; their messages wait in RabbitMQ meanwhile
/// and the other endpoints deliver as usual.
/// </summary>
internal sealed class WebhookBreakerHealthCheck(WebhookEndpointSet endpoints) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failing = endpoints.All.Where(e => e.Breaker.State != WebhookCircuitState.Closed).ToList();
        return Task.FromResult(failing.Count == 0
            ? HealthCheckResult.Healthy(endpoints.All.Count == 1 ? "Webhook circuit breaker closed." : "Every webhook circuit breaker closed.")
            : new HealthCheckResult(context.Registration.FailureStatus, string.Join(" ", failing.Select(e =>
                $"Webhook circuit breaker {e.Breaker.State} for endpoint {e.Name}: the endpoint is failing; its registrations "
                + $"wait in RabbitMQ (next trial in {e.Breaker.UntilNextTrial.TotalSeconds:0.#} s)."))));
    }
}
