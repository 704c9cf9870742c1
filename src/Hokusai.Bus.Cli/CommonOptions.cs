using System.CommandLine;
using System.Globalization;

namespace Hokusai.Bus.Cli;

/// <summary>Options and parsers shared by several commands.</summary>
internal static class CommonOptions
{
    /// <summary>An amqp:// or amqps:// URL option, refused with a one-line error naming it otherwise.</summary>
    public static Option<Uri> Amqp(string name, string description) =>
        UrlOption(name, description, ["amqp", "amqps"], "an amqp:// or amqps:// URL, e.g. amqp://guest:guest@localhost:5672/");

    /// <summary>The broker variable every command falls back to.</summary>
    public const string BrokerVariable = "RABBITMQ_URL";

    /// <summary>The management API variable <c>dead-letters</c> falls back to (else port 15672 of the broker's host).</summary>
    public const string ManagementVariable = "RABBITMQ_MANAGEMENT_URL";

    /// <summary>The broker when neither <c>--rabbitmq</c> nor <c>RABBITMQ_URL</c> is given.</summary>
    public const string DefaultBroker = "amqp://guest:guest@localhost:5672/";

    /// <summary>
    /// <c>--rabbitmq</c>: the broker, else <c>RABBITMQ_URL</c>, else <see cref="DefaultBroker"/>. Resolved when the command
    /// runs (<see cref="BrokerOf"/>), so <c>--help</c> never shows a URL, or its password.
    /// </summary>
    public static Option<Uri> Broker() =>
        Amqp("--rabbitmq", $"The broker, amqp://user:pass@host:port/vhost; {BrokerVariable} when omitted, else amqp://guest:***@localhost:5672/.");

    /// <summary>The broker <paramref name="option"/>, <c>RABBITMQ_URL</c> or the default gives.</summary>
    public static Uri BrokerOf(ParseResult parseResult, Option<Uri> option)
    {
        if (parseResult.GetValue(option) is { } given)
        {
            return given;
        }

        var variable = Environment.GetEnvironmentVariable(BrokerVariable);
        if (string.IsNullOrEmpty(variable))
        {
            return new Uri(DefaultBroker);
        }

        return Uri.TryCreate(variable, UriKind.Absolute, out var url) && url.Scheme is "amqp" or "amqps"
            ? url
            : throw new UsageException($"{BrokerVariable} must be an amqp:// or amqps:// URL, e.g. amqp://guest:guest@localhost:5672/.");
    }

    public const string SecretVariable = "WEBHOOK_SECRET";

    /// <summary><c>--secret</c>; falls back to <c>WEBHOOK_SECRET</c>, never shown in help or output.</summary>
    public static Option<string> Secret(string description = "The shared secret (WEBHOOK_SECRET); that variable is used when this is omitted.") =>
        new("--secret", "-s") { Description = description, HelpName = "secret" };

    /// <summary>Adds a validator: the secret must come from <paramref name="option"/> or <c>WEBHOOK_SECRET</c>.</summary>
    public static void RequireSecret(Command command, Option<string> option) =>
        command.Validators.Add(result =>
        {
            var given = result.GetValue(option);
            if (given is not null && given.Length == 0)
            {
                result.AddError("--secret must not be empty.");
            }
            else if (given is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SecretVariable)))
            {
                result.AddError($"--secret is required (or set {SecretVariable}).");
            }
        });

    public static string SecretOf(ParseResult parseResult, Option<string> option) =>
        parseResult.GetValue(option) ?? Environment.GetEnvironmentVariable(SecretVariable) ?? "";

    /// <summary>An absolute http(s) URL option.</summary>
    public static Option<Uri> Url(
        string name, string description, bool required = true, string example = "http://127.0.0.1:8080/api/models/ready")
    {
        var option = UrlOption(name, description, ["http", "https"], $"an absolute http or https URL, e.g. {example}");
        option.Required = required;
        return option;
    }

    private static Option<Uri> UrlOption(string name, string description, string[] schemes, string expected) => new(name)
    {
        Description = description,
        HelpName = "url",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && schemes.Contains(uri.Scheme))
            {
                return uri;
            }

            // Shown as the host shows a URL: a token in its user info or query stays out of the terminal.
            result.AddError($"{name} must be {expected}; got '{WebhookUrl.RedactText(text)}'.");
            return null;
        },
    };

    /// <summary>A duration in seconds, fractions allowed, at least <paramref name="minimum"/>; read it with <see cref="GetSeconds"/>.</summary>
    public static Option<double> Seconds(string name, string description, double defaultSeconds, double minimum = 0) => new(name)
    {
        Description = description,
        HelpName = "seconds",
        DefaultValueFactory = _ => defaultSeconds,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (SettingValues.TryParseSeconds(text, out var seconds) && seconds >= minimum && seconds <= 86_400)
            {
                return seconds;
            }

            result.AddError($"{name} must be a number of seconds of at least {minimum.ToString(CultureInfo.InvariantCulture)} (e.g. 0.5); got '{text}'.");
            return default;
        },
    };

    /// <summary>The value of a <see cref="Seconds"/> option.</summary>
    public static TimeSpan GetSeconds(this ParseResult parseResult, Option<double> option) =>
        TimeSpan.FromSeconds(parseResult.GetValue(option));

    /// <summary>A whole number in a range.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int minimum, int maximum) => new(name)
    {
        Description = description,
        HelpName = "n",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                && value >= minimum && value <= maximum)
            {
                return value;
            }

            result.AddError($"{name} must be a whole number from {minimum} to {maximum}; got '{text}'.");
            return default;
        },
    };

    /// <summary>The option's value in a validator, or false when it did not parse (its error is reported already).</summary>
    public static bool TryGet<T>(System.CommandLine.Parsing.CommandResult result, Option<T> option, out T? value)
    {
        try
        {
            value = result.GetValue(option);
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }

    /// <summary><c>--file PATH</c>, or <c>-</c> (or no option) for standard input.</summary>
    public static Option<string> InputFile() => new("--file", "-f")
    {
        Description = "Read the body from this file; '-' or no --file reads standard input. The exact bytes are used.",
        HelpName = "path|-",
    };

    /// <summary>The exact bytes of <paramref name="path"/>, or of standard input when it is null or <c>-</c>.</summary>
    public static async Task<byte[]> ReadBodyAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is null or "-")
        {
            await using var stdin = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            await stdin.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length == 0)
            {
                // Usually a pipe that was not connected; an empty body is still a body, so it is used, not refused.
                await Console.Error.WriteLineAsync(
                    "warning: standard input was empty, so the body is empty (0 bytes); pipe the exact body or use --file.").ConfigureAwait(false);
            }

            return buffer.ToArray();
        }

        return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
    }
}
