using Microsoft.Extensions.Configuration;

namespace Hokusai.Bus;

/// <summary>Names of webhook endpoints (subscriptions) and where their settings and queues are.</summary>
public static class WebhookEndpointNames
{
    /// <summary>The endpoint the guide's settings define (<c>Hokusai:Webhook</c>), on queue <c>hokusai-webhook-delivery</c>.</summary>
    public const string Default = "default";

    /// <summary>The key under <c>Hokusai:Webhook</c> whose children are further endpoints by name.</summary>
    public const string SectionKey = "Endpoints";

    /// <summary>The queue an endpoint consumes from: <c>hokusai-webhook-delivery</c>, or <c>hokusai-webhook-delivery-&lt;name&gt;</c>.</summary>
    public static string QueueOf(string name) =>
        name == Default ? HokusaiQueues.WebhookDelivery : $"{HokusaiQueues.WebhookDelivery}-{name}";

    /// <summary>
    /// The configuration section of the endpoint whose options are named <paramref name="optionsName"/>: empty (the
    /// default endpoint's options) is <c>Hokusai:Webhook</c>, any other <c>Hokusai:Webhook:Endpoints:&lt;name&gt;</c>.
    /// </summary>
    internal static string SectionOf(string? optionsName) => string.IsNullOrEmpty(optionsName)
        ? HokusaiWebhookOptions.SectionName
        : $"{HokusaiWebhookOptions.SectionName}:{SectionKey}:{optionsName}";

    /// <summary>The named endpoints configuration defines (the children of <c>Hokusai:Webhook:Endpoints</c>), in order.</summary>
    public static IReadOnlyList<string> In(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return [.. configuration.GetSection($"{HokusaiWebhookOptions.SectionName}:{SectionKey}").GetChildren()
            .Select(c => c.Key).Order(StringComparer.Ordinal)];
    }

    /// <summary>1 to 40 lowercase letters, digits and '-', starting with a letter or digit, and not <see cref="Default"/>.</summary>
    public static bool IsValid(string name) =>
        name is { Length: >= 1 and <= 40 } && name != Default && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}
