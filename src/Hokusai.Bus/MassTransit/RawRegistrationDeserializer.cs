using System.Net.Mime;
using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus;

/// <summary>
/// MassTransit's raw JSON deserializer, minus one parse: it reads a <see cref="ModelRegistered"/> straight from the
/// body bytes, where MassTransit's parses the body into a <see cref="JsonDocument"/> and then reads the message from
/// that (issue #14: 3.5 % of the host's CPU per delivery). Same options as MassTransit's (case-insensitive metric
/// names and all), so the same bodies are accepted. Anything it cannot read that way (a body that is not a
/// registration, JSON the harness passes as an element) goes to MassTransit's deserializer, unchanged, so a bad body
/// fails exactly where and how it did: the error queue's reasons do not change.
/// </summary>
internal sealed class RawRegistrationDeserializer : IMessageDeserializer, ISerializerFactory
{
    private static readonly SystemTextJsonRawMessageSerializer MassTransitRaw = new(RawSerializerOptions.AnyMessageType);

    public static RawRegistrationDeserializer Instance { get; } = new();

    public ContentType ContentType => SystemTextJsonRawMessageSerializer.JsonContentType;

    public IMessageSerializer CreateSerializer() => MassTransitRaw;

    public IMessageDeserializer CreateDeserializer() => this;

    public void Probe(ProbeContext context) => context.CreateScope("hokusaiRawRegistration");

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext,
            Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        if (body is not JsonMessageBody && body.GetBytes() is { Length: > 0 } bytes)
        {
            ModelRegistered? registration;
            try
            {
                registration = JsonSerializer.Deserialize<ModelRegistered>(bytes, SystemTextJsonMessageSerializer.Options);
            }
            catch (JsonException)
            {
                registration = null;
            }

            if (registration is not null)
            {
                return new RawRegistrationContext(registration, bytes, headers, destinationAddress);
            }
        }

        return MassTransitRaw.Deserialize(body, headers, destinationAddress);
    }

    public MessageBody GetMessageBody(string text) => MassTransitRaw.GetMessageBody(text);
}
