namespace Hokusai.Bus.Receiver;

/// <summary>The names to add to an application's tracing to see deliveries in the sender's trace.</summary>
public static class HokusaiReceiverTelemetry
{
    /// <summary>The ActivitySource of the <c>webhook receive</c> span, which continues the sender's <c>traceparent</c>.</summary>
    public const string ActivitySourceName = "Hokusai.Bus.Receiver";
}
