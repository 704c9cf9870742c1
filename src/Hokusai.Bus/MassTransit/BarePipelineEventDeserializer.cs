using System.Diagnostics.CodeAnalysis;
using System.Net.Mime;
using Hokusai.Bus.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Hokusai.Bus;

/// <summary>
/// Reads a <see cref="BarePipelineEvent"/> (content type <c>application/vnd.hokusai.pipeline-event+json</c>) as a
/// <see cref="PipelineEvent"/>: the body as it is, the rest from its AMQP properties (or an earlier host's headers). A
/// message with a property missing or unreadable fails here, and goes to the error queue with the property named.
/// Forwarded by MassTransit itself (the in-memory harness's delayed redelivery), the event travels in MassTransit's
/// envelope; on RabbitMQ a retry's copy keeps this form (<see cref="Redelivery"/> copies the body and the properties).
/// </summary>
internal sealed class BarePipelineEventDeserializer : IMessageDeserializer, ISerializerFactory
{
    public static BarePipelineEventDeserializer Instance { get; } = new();

    public ContentType ContentType => BarePipelineEvent.ContentType;

    public IMessageSerializer CreateSerializer() => SystemTextJsonMessageSerializer.Instance;

    public IMessageDeserializer CreateDeserializer() => this;

    public void Probe(ProbeContext context) => context.CreateScope("hokusaiBarePipelineEvent");

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext, receiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit)
            ? new Context(BarePipelineEvent.Read(receiveContext.Body.GetBytes(), rabbit.Properties), receiveContext.TransportHeaders, receiveContext.InputAddress)
            : Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    /// <summary>Without RabbitMQ's properties at hand (not on RabbitMQ): what MassTransit's headers hold, an earlier host's form.</summary>
    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        var table = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers.GetAll())
        {
            table[name] = value;
        }

        var properties = new RabbitMQ.Client.BasicProperties
        {
            Headers = table, MessageId = headers.Get<string>(MessageHeaders.MessageId), ContentType = headers.Get<string>(MessageHeaders.ContentType),
        };
        return new Context(BarePipelineEvent.Read(body.GetBytes(), properties), headers, destinationAddress);
    }

    public MessageBody GetMessageBody(string text) => new StringMessageBody(text);

    /// <summary>The event, offered as a <see cref="PipelineEvent"/> only.</summary>
    private sealed class Context(PipelineEvent pipelineEvent, Headers headers, Uri? destinationAddress)
        : SystemTextJsonRawSerializerContext(SystemTextJsonMessageSerializer.Instance, SystemTextJsonMessageSerializer.Options,
            BarePipelineEvent.ContentType, new RawMessageContext(headers, destinationAddress, RawSerializerOptions.AnyMessageType),
            [MessageUrn.ForTypeString<PipelineEvent>()], RawSerializerOptions.AnyMessageType, default)
    {
        public override bool IsSupportedMessageType<T>() => typeof(T) == typeof(PipelineEvent);

        public override bool IsSupportedMessageType(Type messageType) => messageType == typeof(PipelineEvent);

        public override bool TryGetMessage<T>([NotNullWhen(true)] out T? message)
            where T : class
        {
            message = pipelineEvent as T;
            return message is not null;
        }

        public override bool TryGetMessage(Type messageType, [NotNullWhen(true)] out object? message)
        {
            message = messageType.IsInstanceOfType(pipelineEvent) ? pipelineEvent : null;
            return message is not null;
        }

        // Anything MassTransit re-serializes from this context goes in its envelope, which every endpoint reads.
        public override IMessageSerializer GetMessageSerializer() => SystemTextJsonMessageSerializer.Instance;

        public override IMessageSerializer GetMessageSerializer(object message, string[] messageTypes) => SystemTextJsonMessageSerializer.Instance;

        public override IMessageSerializer GetMessageSerializer<T>(MessageEnvelope envelope, T message) => SystemTextJsonMessageSerializer.Instance;
    }
}
