namespace Hokusai.Bus;

/// <summary>Names of webhook endpoints (subscriptions) and where their settings and queues are.</summary>
public static class WebhookEndpointNames
{
    /// <summary>The endpoint the guide's settings define (<c>Hokusai:Webhook</c>), on queue <c>hokusai-webhook-delivery</c>.</summary>
    public const string Default = "default";

    /// <summary>The key under <c>Hokusai:Webhook</c> whose children are further endpoints by name.</summary>
    public const string SectionKey = "Endpoints";
}
