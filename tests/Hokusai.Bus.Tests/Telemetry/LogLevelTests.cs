using Microsoft.Extensions.Logging;
using Xunit;

namespace Hokusai.Bus.Tests.Telemetry;

/// <summary>
/// At Information (the host's default) the console shows what needs a look: a failed attempt and a delivery that took
/// more than one; a delivery accepted at its first attempt, the path of almost every one, writes nothing above Debug.
/// </summary>
public sealed class LogLevelTests
{
    private const string Url = "https://receiver.example/hook";

    [Fact]
    public void A_delivery_accepted_at_its_first_attempt_writes_nothing_at_Information()
    {
        var logger = new Lines();
        var listener = new LoggingListener(logger);

        listener.Write(new WebhookAttemptFinished(Url, "k1", 1, WebhookAttemptKind.Accepted, 200, "HTTP 200 (OK)", TimeSpan.FromMilliseconds(3), false));
        listener.Write(new WebhookDelivered(Url, "k1", 1, TimeSpan.FromMilliseconds(3)));

        Assert.Empty(logger.At(LogLevel.Information));
        Assert.Equal(2, logger.At(LogLevel.Debug).Count);
    }

    [Fact]
    public void A_failed_attempt_and_the_delivery_after_it_are_written_at_Information()
    {
        var logger = new Lines();
        var listener = new LoggingListener(logger);

        listener.Write(new WebhookAttemptFinished(Url, "k2", 1, WebhookAttemptKind.Refused, 503, "HTTP 503 (ServiceUnavailable)", TimeSpan.FromMilliseconds(4), false));
        listener.Write(new WebhookAttemptFinished(Url, "k2", 2, WebhookAttemptKind.Accepted, 200, "HTTP 200 (OK)", TimeSpan.FromMilliseconds(3), false));
        listener.Write(new WebhookDelivered(Url, "k2", 2, TimeSpan.FromSeconds(2)));

        Assert.Equal(
            ["Webhook attempt 1 for k2 to https://receiver.example/hook: HTTP 503 (ServiceUnavailable) in 4.0 ms (trial: False)",
             "Delivered k2 to https://receiver.example/hook after 2 attempt(s) in 2000.0 ms"],
            logger.At(LogLevel.Information));
    }

    private sealed class Lines : ILogger<WebhookDelivery>
    {
        private readonly List<(LogLevel Level, string Text)> _lines = [];

        public List<string> At(LogLevel level) => [.. _lines.Where(l => l.Level == level).Select(l => l.Text)];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Add((logLevel, formatter(state, exception)));
    }
}
