using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hokusai.Bus;

/// <summary>
/// The one channel delivery writes to; it hands each event to every registered listener, in order. A listener that
/// throws never reaches the delivery: its exception is contained here, counted (<c>hokusai_listener_failures</c>) and
/// logged on its first failure, and the next listener still gets the event (as Polly contains a telemetry listener's).
/// </summary>
internal sealed class WebhookDeliveryTelemetry
{
    private readonly IWebhookDeliveryListener[] _listeners;
    private readonly ILogger _logger;
    private readonly Counter<long>? _failures;

    /// <summary>Which listeners have failed once already (by index): each is logged the first time only.</summary>
    private readonly int[] _failed;

    private long _listenerFailures;

    public WebhookDeliveryTelemetry(
        IEnumerable<IWebhookDeliveryListener> listeners,
        ILogger<WebhookDeliveryTelemetry>? logger = null,
        IMeterFactory? meters = null)
    {
        _listeners = [.. listeners];
        _failed = new int[_listeners.Length];
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _failures = meters?.Create(HokusaiNames.MeterName).CreateCounter<long>("hokusai_listener_failures", "{exception}",
            "Exceptions thrown by a delivery-event listener (IWebhookDeliveryListener); contained, they never fail a delivery.");
    }

    /// <summary>Exceptions thrown by listeners so far, contained.</summary>
    public long ListenerFailures => Interlocked.Read(ref _listenerFailures);

    public void Write(WebhookDeliveryEvent deliveryEvent)
    {
        for (var i = 0; i < _listeners.Length; i++)
        {
            try
            {
                _listeners[i].Write(deliveryEvent);
            }
            catch (Exception e)
            {
                Contain(i, e);
            }
        }
    }

    /// <summary>The channel as one endpoint writes to it: each event stamped with the endpoint's name.</summary>
    public EndpointTelemetry For(string endpoint) => new(this, endpoint);

    private void Contain(int listener, Exception exception)
    {
        Interlocked.Increment(ref _listenerFailures);
        var type = _listeners[listener].GetType().Name;
        try
        {
            _failures?.Add(1, new KeyValuePair<string, object?>("listener", type));
            if (Interlocked.Exchange(ref _failed[listener], 1) == 0)
            {
                Log.ListenerFailed(_logger, exception, type);
            }
        }
        catch (Exception)
        {
            // A logger or meter listener that throws too is not the delivery's problem either.
        }
    }
}
