namespace Hokusai.Bus.Operations;

/// <summary>The failure of a management API call, with the status and RabbitMQ's reason.</summary>
public sealed class ManagementApiException(string message) : Exception(message);
