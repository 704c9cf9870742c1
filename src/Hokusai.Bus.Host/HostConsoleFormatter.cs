using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Hokusai.Bus.Host;

/// <summary>
/// The host's console format: the simple format's two lines per entry (<c>level: category[event]</c>, then the message
/// indented), with MassTransit's exceptions cut to their innermost type and message on one line instead of a stack
/// trace, and MassTransit's entries about connecting to RabbitMQ left out: <see cref="BrokerConnection"/> names that
/// problem once. <c>Logging__Console__FormatterName=json</c> (or <c>simple</c>) gives the standard formats back.
/// </summary>
internal sealed class HostConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "hokusai";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var exception = logEntry.Exception;
        var fromMassTransit = logEntry.Category.StartsWith("MassTransit", StringComparison.Ordinal);
        if (BrokerConnection.IsConnectionFailure(exception))
        {
            return;
        }

        var message = logEntry.Formatter(logEntry.State, exception);
        if (exception is not null)
        {
            var innermost = exception.GetBaseException();
            message += fromMassTransit
                ? $" ({innermost.GetType().Name}: {innermost.Message.Split('\n')[0].TrimEnd()})"
                : Environment.NewLine + exception;
        }

        textWriter.Write(logEntry.LogLevel switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "none",
        });
        textWriter.Write(": ");
        textWriter.Write(logEntry.Category);
        textWriter.Write('[');
        textWriter.Write(logEntry.EventId.Id);
        textWriter.WriteLine(']');
        foreach (var line in message.Split('\n'))
        {
            textWriter.Write("      ");
            textWriter.WriteLine(line.TrimEnd('\r'));
        }
    }
}
