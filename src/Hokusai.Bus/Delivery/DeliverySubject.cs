namespace Hokusai.Bus;

/// <summary>What one delivery carries, as its events name it: the model id (or null) and the event type.</summary>
internal sealed record DeliverySubject(string? ModelId, string EventType);
