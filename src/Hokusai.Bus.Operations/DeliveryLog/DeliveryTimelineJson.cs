using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hokusai.Bus.Operations.DeliveryLog;

/// <summary>Timelines as JSON, the same from <c>hokusai-bus deliveries --json</c> and <c>GET /deliveries</c>.</summary>
public static class DeliveryTimelineJson
{
    /// <summary><c>{"timelines":[{"key", "model_id", "event_type", "status", "next_try", "endpoints", "hosts", "records":[…]}]}</c>.</summary>
    public static string Of(IReadOnlyList<DeliveryTimeline> timelines)
    {
        ArgumentNullException.ThrowIfNull(timelines);
        var array = new JsonArray();
        foreach (var timeline in timelines)
        {
            array.Add(new JsonObject
            {
                ["key"] = timeline.Key,
                ["model_id"] = timeline.ModelId,
                ["event_type"] = timeline.EventType,
                ["status"] = timeline.Status.ToString().ToLowerInvariant(),
                ["next_try"] = timeline.NextTry?.ToString("O", CultureInfo.InvariantCulture),
                ["endpoints"] = new JsonArray([.. timeline.Endpoints.Select(e => (JsonNode?)e)]),
                ["hosts"] = new JsonArray([.. timeline.Hosts.Select(h => (JsonNode?)h)]),
                ["records"] = JsonSerializer.SerializeToNode(timeline.Records),
            });
        }

        return new JsonObject { ["timelines"] = array }.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
