using Microsoft.Extensions.Configuration.Memory;

namespace Hokusai.Bus.Host;

/// <summary>
/// The host's console logging: <see cref="HostConsoleFormatter"/>, and ASP.NET Core's per-request lines (request
/// starting, endpoint executing, executed, request finished) at <c>Warning</c> by default, as ASP.NET Core's own
/// templates ship them. At <c>Information</c> they were four console lines for every <c>/ingest</c> POST and every health
/// probe. The default is the lowest-precedence configuration source, so <c>Logging__LogLevel__Microsoft.AspNetCore</c>
/// still sets it.
/// </summary>
internal static class HostLogging
{
    /// <summary>The default level of the <c>Microsoft.AspNetCore</c> categories.</summary>
    public const string AspNetCoreLevelKey = "Logging:LogLevel:Microsoft.AspNetCore";

    public static void AddHostLogging(this WebApplicationBuilder builder)
    {
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new(AspNetCoreLevelKey, nameof(LogLevel.Warning))],
        });
        builder.Logging.AddConsoleFormatter<HostConsoleFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
        builder.Logging.AddConsole(o => o.FormatterName ??= HostConsoleFormatter.FormatterName); // MassTransit without stack traces
    }
}
