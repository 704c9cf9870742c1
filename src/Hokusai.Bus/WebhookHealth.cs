using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus;

/// <summary>
/// Readiness of webhook delivery: Degraded (HTTP 200, so no orchestrator restarts the host for an endpoint's outage)
/// while the breaker is open or half-open, with the reason; messages wait in RabbitMQ meanwhile.
/// </summary>
internal sealed class WebhookBreakerHealthCheck(WebhookCircuitBreaker breaker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(breaker.State switch
        {
            WebhookCircuitState.Closed => HealthCheckResult.Healthy("Webhook circuit breaker closed."),
            var state => new HealthCheckResult(context.Registration.FailureStatus,
                $"Webhook circuit breaker {state}: the endpoint is failing; registrations wait in RabbitMQ "
                + $"(next trial in {breaker.UntilNextTrial.TotalSeconds:0.#} s)."),
        });
}

/// <summary>
/// Logs a warning and counts <c>hokusai_endpoint_faults</c> whenever a receive endpoint faults, which is what ops see
/// when RabbitMQ closes a channel (for example an acknowledgement timeout); MassTransit reconnects by itself.
/// </summary>
internal sealed class EndpointFaultObserver(ILogger<EndpointFaultObserver> logger, HokusaiBusMetrics metrics) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        metrics.EndpointFaulted();
        Log.EndpointFaulted(logger, faulted.InputAddress.AbsolutePath.TrimStart('/'),
            Contracts.SafeText.Of(faulted.Exception?.GetBaseException().Message, 300));
        return Task.CompletedTask;
    }
}
