using System.Net.Mime;
using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Publishes a registration as its webhook body, raw JSON, exactly as a Python producer publishes it: the contracts'
/// serializer, not MassTransit's envelope. MassTransit's JSON options carry a dictionary converter that writes a
/// <c>[JsonExtensionData]</c> dictionary as a nested object, so a registration with an extra key (the guide's
/// <c>"test": true</c>) became an envelope no consumer could read; the contracts' serializer writes it as the guide does.
/// </summary>
internal sealed class RegistrationBodySerializer : IMessageSerializer
{
    public static RegistrationBodySerializer Instance { get; } = new();

    public ContentType ContentType { get; } = new("application/json");

    public MessageBody GetMessageBody<T>(SendContext<T> context)
        where T : class =>
        context.Message is ModelRegistered registration
            ? new BytesMessageBody(ModelRegisteredJson.Serialize(registration))
            : throw new NotSupportedException($"{nameof(RegistrationBodySerializer)} writes {nameof(ModelRegistered)} only, not {typeof(T).Name}.");
}
