using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus;

/// <summary>
/// What <see cref="RawRegistrationDeserializer"/> hands MassTransit: the registration already read, and, only when
/// something asks for the message as another type or forwards it (the harness's delayed redelivery), the body parsed
/// as MassTransit's raw context would have parsed it.
/// </summary>
internal sealed class RawRegistrationContext(ModelRegistered registration, byte[] body, Headers headers, Uri? destinationAddress)
    : SystemTextJsonRawSerializerContext(SystemTextJsonMessageSerializer.Instance, SystemTextJsonMessageSerializer.Options,
        SystemTextJsonRawMessageSerializer.JsonContentType, new RawMessageContext(headers, destinationAddress, RawSerializerOptions.AnyMessageType),
        headers.GetMessageTypes(), RawSerializerOptions.AnyMessageType, default)
{
    private JsonElement? _element;

    private JsonElement Element => _element ??= JsonDocument.Parse(body).RootElement;

    public override bool TryGetMessage<T>([NotNullWhen(true)] out T? message)
        where T : class
    {
        if (registration is T ofT)
        {
            message = ofT;
            return true;
        }

        message = Element.Deserialize<T>(Options);
        return message is not null;
    }

    public override bool TryGetMessage(Type messageType, [NotNullWhen(true)] out object? message)
    {
        message = messageType.IsInstanceOfType(registration) ? registration : Element.Deserialize(messageType, Options);
        return message is not null;
    }

    public override IMessageSerializer GetMessageSerializer() =>
        new SystemTextJsonBodyMessageSerializer(Element, ContentType, Options, RawSerializerOptions.AnyMessageType);
}
