using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>The names ops and producers rely on: the exchange registrations are published to, the meter's and the ActivitySource's.</summary>
public static class HokusaiNames
{
    /// <summary>
    /// The fanout exchange <see cref="ModelRegistered"/> is published to and every Hokusai queue is bound to: MassTransit's
    /// name for the contract (<c>namespace:Type</c>). A test fails if MassTransit would name it otherwise, so renaming or
    /// moving the type cannot silently move the exchange away from Python producers and existing bindings.
    /// </summary>
    public const string ModelRegisteredExchange = "Hokusai.Bus.Contracts:ModelRegistered";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> whose instruments the plugin records.</summary>
    public const string MeterName = "Hokusai.Bus";

    /// <summary>The ActivitySource of the delivery span (parent of every HTTP attempt); add it to tracing.</summary>
    public const string ActivitySourceName = "Hokusai.Bus";
}
