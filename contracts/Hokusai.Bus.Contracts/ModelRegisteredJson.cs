using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// The one serializer for the webhook body: compact snake_case JSON, UTF-8, timestamps in UTC with <c>Z</c>,
/// optional metadata fields left out when absent, unknown metadata keys kept. Producers, the delivery consumer,
/// the Redis fallback and the tools all use it, so the bytes that are signed are the bytes that are sent.
/// </summary>
public static class ModelRegisteredJson
{
    /// <summary>The options behind <see cref="Serialize"/>; source-generated, no reflection.</summary>
    public static JsonSerializerOptions Options => ContractsJsonContext.Body.Options;

    /// <summary>The webhook body of <paramref name="message"/>.</summary>
    public static byte[] Serialize(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return JsonSerializer.SerializeToUtf8Bytes(message, ContractsJsonContext.Body.ModelRegistered);
    }

    /// <summary>
    /// Reads a webhook body or a raw bus payload without throwing. On failure <paramref name="error"/> names the JSON
    /// field at fault (<c>baseline_metrics.accuracy must be a number; ...</c>), with no value from the payload in it
    /// that could forge a log line.
    /// </summary>
    public static bool TryDeserialize(
        ReadOnlySpan<byte> utf8Json,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelRegistered? message,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        try
        {
            message = Read(utf8Json);
        }
        catch (JsonException e)
        {
            message = null;
            error = Describe(e);
            return false;
        }

        if (message is null)
        {
            error = "The body must be a JSON object (a model registration); it is JSON null.";
            return false;
        }

        // A number such as 1e400 reads as infinity, which no JSON writer can write back: refuse it here, by name.
        foreach (var (name, value) in message.BaselineMetrics)
        {
            if (!double.IsFinite(value))
            {
                message = null;
                error = $"baseline_metrics.{SafeText.Of(name, 64)} must be a finite number; it is out of range.";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>Turns a System.Text.Json error into a sentence that starts with the field it is about.</summary>
    private static string Describe(JsonException e)
    {
        var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal)
            ? SafeText.Of(path[2..].Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal), 80)
            : null;
        var reason = e.InnerException is InvalidOperationException or FormatException
            ? "has the wrong JSON type" + Expected(e.InnerException.Message)
            : SafeText.Of(StripLocation(e.Message), 200);

        if (field is null)
        {
            return e.Path is "$" or null && e.BytePositionInLine is not null && reason.Contains("could not be converted", StringComparison.Ordinal)
                ? "The body must be a JSON object (a model registration)."
                : "The body is not valid JSON: " + reason;
        }

        // Our converters' messages already start with the field's name ("timestamp must be ISO 8601 ...").
        var leaf = field[(field.LastIndexOf('.') + 1)..];
        if (reason.StartsWith(leaf, StringComparison.Ordinal) || reason.StartsWith(field, StringComparison.Ordinal))
        {
            return reason;
        }

        if (reason.StartsWith("has ", StringComparison.Ordinal) || reason.StartsWith("must ", StringComparison.Ordinal))
        {
            return $"{field} {reason}";
        }

        return reason.Contains("could not be converted", StringComparison.Ordinal)
            ? $"{field} has the wrong JSON type{Expected(reason)}"
            : $"The body is not valid JSON (at {field}): {reason}";
    }

    /// <summary>
    /// ": it must be a number." and the like, from System.Text.Json's message (<c>Cannot get the value of a token type
    /// 'String' as a number.</c>, <c>The JSON value could not be converted to System.Double.</c>); "." when it names no type.
    /// </summary>
    private static string Expected(string message) =>
        message.Contains("as a number", StringComparison.Ordinal) || message.Contains("System.Double", StringComparison.Ordinal)
            ? ": it must be a number."
        : message.Contains("as a string", StringComparison.Ordinal) || message.Contains("System.String", StringComparison.Ordinal)
            ? ": it must be a string."
        : message.Contains("System.Collections.Generic", StringComparison.Ordinal) || message.Contains("Dictionary", StringComparison.Ordinal)
            ? ": it must be an object."
        : ".";

    /// <summary>System.Text.Json appends " Path: $.x | LineNumber: 0 | BytePositionInLine: 5." to its messages.</summary>
    private static string StripLocation(string message)
    {
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (at < 0)
        {
            at = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        return at < 0 ? message : message[..at];
    }

    /// <summary>Reads a webhook body or a raw bus payload.</summary>
    /// <exception cref="JsonException">The bytes are not a JSON object of this shape; the message says where.</exception>
    public static ModelRegistered Deserialize(ReadOnlySpan<byte> utf8Json) =>
        Read(utf8Json) ?? throw new JsonException("The payload is JSON null, not a model registration object.");

    /// <summary>
    /// The one read behind both: the usual registration in one pass (<see cref="ModelRegisteredFastPath"/>), any other
    /// body by the serializer, which throws its <see cref="JsonException"/> naming the field; null for JSON null.
    /// </summary>
    private static ModelRegistered? Read(ReadOnlySpan<byte> utf8Json) =>
        ModelRegisteredFastPath.TryRead(utf8Json)
        ?? JsonSerializer.Deserialize(utf8Json, ContractsJsonContext.Body.ModelRegistered);
}
