using System.Text;
using System.Text.Json.Nodes;

namespace Hokusai.Bus.Operations;

/// <summary>A message as <c>POST /api/queues/{vhost}/{queue}/get</c> returns it, read without consuming it.</summary>
public sealed record PeekedMessage(byte[] Payload, JsonObject Properties, bool Redelivered)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Payload);

    /// <summary>A header's value as text, or null.</summary>
    public string? Header(string name) => Properties["headers"]?[name]?.ToString();

    /// <summary>
    /// A property's value as text by its name in the management API (<c>message_id</c>, <c>type</c>,
    /// <c>content_type</c>, …), else a header's; null when neither is there.
    /// </summary>
    public string? Field(string name) => Properties[name] is JsonValue value ? value.ToString() : Header(name);
}
