namespace Hokusai.Bus;

/// <summary>One event type a consumer beside the webhook endpoints takes (<see cref="EventSubscriptions.Add"/>).</summary>
/// <param name="EventType">The type, e.g. <c>model_registered</c>.</param>
public sealed record EventSubscription(string EventType);
