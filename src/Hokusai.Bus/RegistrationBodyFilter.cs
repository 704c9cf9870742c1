using System.Text.Json;
using Hokusai.Bus.Contracts;
using MassTransit;

namespace Hokusai.Bus;

/// <summary>
/// Reads every message on a Hokusai queue with the contracts' serializer before MassTransit does, so that a body it
/// cannot read (not JSON, JSON <c>null</c>, a number where a metric belongs, a timestamp that is not ISO 8601, a
/// MassTransit envelope of another message type) goes to <c>_error</c> with a reason that names the field, instead of
/// a bare serializer message or the <c>_skipped</c> queue. What it can read passes on to the consumer, whose
/// validation names missing fields.
/// </summary>
internal sealed class RegistrationBodyFilter : IFilter<ConsumeContext>
{
    private const string EnvelopeContentType = "application/vnd.masstransit+json";
    private static readonly string MessageUrn = MassTransit.MessageUrn.ForTypeString<ModelRegistered>();

    public static RegistrationBodyFilter Instance { get; } = new();

    public Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        if (Problem(context.ReceiveContext) is { } problem)
        {
            throw new InvalidModelRegistrationException([problem]);
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("hokusaiRegistrationBody");

    /// <summary>Why the body is not a readable registration, or null when it is.</summary>
    internal static string? Problem(ReceiveContext receive)
    {
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
