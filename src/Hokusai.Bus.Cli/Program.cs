// hokusai-bus: try, test and operate Hokusai webhook delivery from a terminal. See README.md.
using System.CommandLine;
using System.CommandLine.Invocation;
using Hokusai.Bus.Cli;
using Hokusai.Bus.Cli.Commands;

// MassTransit's usage telemetry stays off in every bus this tool builds (each also calls DisableUsageTelemetry()).
Environment.SetEnvironmentVariable("MASSTRANSIT_USAGE_TELEMETRY", "false");
Terminal.Configure();

var root = new RootCommand("Try, test and operate Hokusai webhook delivery (signed HTTP webhooks from RabbitMQ via MassTransit).")
{
    DemoCommand.Create(),
    SendTestCommand.Create(),
    HealthCommand.Create(),
    SignCommands.CreateSign(),
    SignCommands.CreateVerify(),
    PublishCommand.Create(),
    ReceiveCommand.Create(),
    DeadLettersCommand.Create(),
    DeliveriesCommand.Create(),
};

var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction or null)
{
    // A usage error: the message, then the usage of the command that was meant, on stderr; exit code 2.
    parseResult.Invoke(new InvocationConfiguration { Output = Console.Error, Error = Console.Error });
    return ExitCodes.Usage;
}

try
{
    return await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageException usage)
{
    // Found after parsing (e.g. a payload file that is not a registration): the message, then the command's usage.
    await Console.Error.WriteLineAsync(usage.Message);
    await Console.Error.WriteLineAsync();
    var path = new List<string>();
    for (var result = parseResult.CommandResult; result is not null && result.Command != root; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        path.Insert(0, result.Command.Name);
    }

    root.Parse([.. path, "--help"]).Invoke(new InvocationConfiguration { Output = Console.Error });
    return ExitCodes.Usage;
}
catch (Exception ex) when (ex is Hokusai.Bus.Operations.ManagementApiException or HttpRequestException)
{
    Terminal.Error(ex.Message);
    return ExitCodes.Failure;
}
catch (OperationCanceledException)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return ExitCodes.Failure;
}
