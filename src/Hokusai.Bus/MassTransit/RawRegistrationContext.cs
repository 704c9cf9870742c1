using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus;

/// <summary>
/// What <see cref="RawRegistrationDeserializer"/> hands MassTransit: a raw JSON body offered as a
/// <see cref="ModelRegistered"/> only, with the registration already read when it could be, and the body parsed as
/// MassTransit's raw context would have parsed it only when something asks for the message otherwise or forwards it
/// (the harness's delayed redelivery).
/// </summary>
internal sealed class RawRegistrationContext(ModelRegistered? registration, MessageBody body, Headers headers, Uri? destinationAddress)
    : SystemTextJsonRawSerializerContext(SystemTextJsonMessageSerializer.Instance, SystemTextJsonMessageSerializer.Options,
        SystemTextJsonRawMessageSerializer.JsonContentType, new RawMessageContext(headers, destinationAddress, RawSerializerOptions.AnyMessageType),
        headers.GetMessageTypes(), RawSerializerOptions.AnyMessageType, default)
{
    private JsonElement? _element = registration is null ? ElementOf(body) : null;

    private JsonElement Element => _element ??= ElementOf(body);

    public override bool IsSupportedMessageType<T>() => typeof(T) == typeof(ModelRegistered);

    public override bool IsSupportedMessageType(Type messageType) => messageType == typeof(ModelRegistered);

    public override bool TryGetMessage<T>([NotNullWhen(true)] out T? message)
        where T : class
    {
        if (registration is T ofT)
        {
            message = ofT;
            return true;
        }

        message = typeof(T) == typeof(ModelRegistered) ? Read<T>(() => Element.Deserialize<T>(Options)) : null;
        return message is not null;
    }

    public override bool TryGetMessage(Type messageType, [NotNullWhen(true)] out object? message)
    {
        message = messageType.IsInstanceOfType(registration) ? registration
            : messageType == typeof(ModelRegistered) ? Read(() => Element.Deserialize(messageType, Options))
            : null;
        return message is not null;
    }

    /// <summary>
    /// Reads the message as MassTransit would; a body it cannot read as a registration fails as an
    /// <see cref="InvalidModelRegistrationException"/> whose message names the field (<c>baseline_metrics.accuracy has
    /// the wrong JSON type: it must be a number.</c>), with no inner exception: the host's <c>R-FAULT</c> line shows the
    /// innermost exception, and <c>MT-Fault-ExceptionType</c> names it, where System.Text.Json's own would say only
    /// <c>Cannot get the value of a token type 'String' as a number.</c>
    /// </summary>
    private T? Read<T>(Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (JsonException) when (!ModelRegisteredJson.TryDeserialize(body.GetBytes(), out _, out var error))
        {
            throw new InvalidModelRegistrationException([error]);
        }
    }

    public override IMessageSerializer GetMessageSerializer() =>
        new SystemTextJsonBodyMessageSerializer(Element, ContentType, Options, RawSerializerOptions.AnyMessageType);

    /// <summary>
    /// The body as MassTransit's raw deserializer parses it: an element the harness passes, the bytes, or <c>{}</c>; JSON
    /// <c>null</c> is read as no element at all, so reading a message from it fails as it does in MassTransit.
    /// </summary>
    private static JsonElement ElementOf(MessageBody body)
    {
        var element = body switch
        {
            JsonMessageBody json => json.GetJsonElement(SystemTextJsonMessageSerializer.Options) ?? EmptyObject(),
            _ when body.GetBytes() is { Length: > 0 } bytes => JsonSerializer.Deserialize<JsonElement>(bytes, SystemTextJsonMessageSerializer.Options),
            _ => EmptyObject(),
        };
        return element.ValueKind == JsonValueKind.Null ? default : element;
    }

    private static JsonElement EmptyObject() => JsonDocument.Parse("{}").RootElement;
}
