using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// The first filter of the delivery endpoints' error pipe: when MassTransit could not deserialize a message (not JSON,
/// JSON <c>null</c>, a string where a metric belongs, a timestamp that is not ISO 8601), it reads the body with the
/// contracts' serializer and replaces the serializer's bare message in <c>MT-Fault-Message</c> with a reason that names
/// the field. MassTransit's own fault and error-queue filters follow unchanged; the message still goes to <c>_error</c>.
/// </summary>
internal sealed class FieldNamingErrorFilter : IFilter<ExceptionReceiveContext>
{
    private const string EnvelopeContentType = "application/vnd.masstransit+json";
    private static readonly string MessageUrn = MassTransit.MessageUrn.ForTypeString<ModelRegistered>();

    public static FieldNamingErrorFilter Instance { get; } = new();

    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        if (context.Exception is not (InvalidModelRegistrationException or WebhookDeliveryException or OperationCanceledException)
            && Problem(context) is { } problem)
        {
            context.ExceptionHeaders.Set(MessageHeaders.FaultMessage, "Invalid ModelRegistered: " + problem);
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("hokusaiFieldNamingError");

    /// <summary>Why the body is not a readable registration, or null when it is.</summary>
    internal static string? Problem(ReceiveContext receive)
    {
        if (receive.ContentType?.MediaType is BarePipelineEvent.MediaType)
        {
            return null; // its deserializer's own reason already names the header
        }

        var body = receive.Body.GetBytes();
        if (receive.ContentType?.MediaType is EnvelopeContentType)
        {
            return EnvelopeProblem(body);
        }

        return ModelRegisteredJson.TryDeserialize(body, out _, out var error) ? null : error;
    }

    private static string? EnvelopeProblem(byte[] body)
    {
        try
        {
            using var envelope = JsonDocument.Parse(body);
            if (envelope.RootElement.ValueKind != JsonValueKind.Object
                || !envelope.RootElement.TryGetProperty("message", out var message))
            {
                return "The MassTransit envelope has no message.";
            }

            if (envelope.RootElement.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array
                && !types.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == MessageUrn))
            {
                var first = types.EnumerateArray().Select(t => t.ToString()).FirstOrDefault() ?? "(none)";
                return $"messageType {SafeText.Of(first, 120)} is not {MessageUrn}: this queue takes only model registrations.";
            }

            return ModelRegisteredJson.TryDeserialize(JsonSerializer.SerializeToUtf8Bytes(message), out _, out var error) ? null : error;
        }
        catch (JsonException e)
        {
            return "The body is not valid JSON: " + SafeText.Of(e.Message, 160);
        }
    }

}
