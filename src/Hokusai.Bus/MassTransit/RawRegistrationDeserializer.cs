using System.Net.Mime;
using System.Runtime.Serialization;
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
/// registration, JSON the harness passes as an element) is read as MassTransit's raw deserializer reads it, so a bad
/// body fails exactly where and how it did: the error queue's reasons do not change. Raw JSON is only ever offered as a
/// <see cref="ModelRegistered"/>: what a producer without MassTransit's envelope publishes is a registration, and a
/// <see cref="PipelineEvent"/> travels in the envelope, so a consumer of both is never handed a registration as one.
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
                return new RawRegistrationContext(registration, body, headers, destinationAddress);
            }
        }

        // What MassTransit's raw deserializer does, but the context still offers the body as a registration only.
        try
        {
            return new RawRegistrationContext(null, body, headers, destinationAddress);
        }
        catch (Exception e) when (e is not SerializationException)
        {
            throw new SerializationException("An error occured while deserializing the message enveloper", e);
        }
    }

    public MessageBody GetMessageBody(string text) => MassTransitRaw.GetMessageBody(text);
}
