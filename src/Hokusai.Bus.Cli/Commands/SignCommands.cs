using System.CommandLine;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Commands;

/// <summary><c>sign</c> and <c>verify</c>: the X-Hokusai-Signature of exact body bytes (HMAC-SHA256, UTF-8 secret).</summary>
internal static class SignCommands
{
    public static Command CreateSign()
    {
        var secret = CommonOptions.Secret();
        var file = CommonOptions.InputFile();
        var format = new Option<string>("--format")
        {
            Description = "hex: 64 lowercase hex characters (the guide's header); sha256: 'sha256=<hex>'.",
            DefaultValueFactory = _ => "hex",
        };
        format.AcceptOnlyFromAmong("hex", "sha256");

        var command = new Command("sign", "Print the X-Hokusai-Signature of the exact bytes of a file or standard input.")
        {
            secret, file, format,
        };
        CommonOptions.RequireSecret(command, secret);
        RequireReadableFile(command, file);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var body = await CommonOptions.ReadBodyAsync(parseResult.GetValue(file), cancellationToken);
            var signatureFormat = parseResult.GetValue(format) == "sha256" ? SignatureFormat.Sha256Prefixed : SignatureFormat.Hex;
            var signer = new WebhookSigner(CommonOptions.SecretOf(parseResult, secret), signatureFormat);
            Console.WriteLine(signer.Sign(body));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateVerify()
    {
        var secret = CommonOptions.Secret();
        var file = CommonOptions.InputFile();
        var signature = new Option<string>("--signature")
        {
            Description = "The X-Hokusai-Signature value to check: 64 hex characters, or 'sha256=<hex>'.",
            Required = true,
            HelpName = "signature",
        };

        var command = new Command("verify", "Check an X-Hokusai-Signature against the exact bytes of a file or standard input: prints valid (exit 0) or invalid (exit 1).")
        {
            secret, file, signature,
        };
        CommonOptions.RequireSecret(command, secret);
        RequireReadableFile(command, file);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var body = await CommonOptions.ReadBodyAsync(parseResult.GetValue(file), cancellationToken);
            var verifier = new WebhookVerifier(CommonOptions.SecretOf(parseResult, secret));
            var given = parseResult.GetValue(signature);
            var valid = verifier.Verify(body, given);
            Console.WriteLine(valid ? "valid" : "invalid");
            if (!valid && ShapeProblem(given) is { } problem)
            {
                await Console.Error.WriteLineAsync(problem);
            }

            return valid ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>Why <paramref name="signature"/> cannot be a signature at all (not just a wrong one), or null.</summary>
    private static string? ShapeProblem(string? signature)
    {
        var hex = (signature ?? "").Trim();
        if (hex.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex["sha256=".Length..];
        }

        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit)
            ? null
            : $"--signature must be 64 hex characters or sha256=<64 hex characters>; it has {hex.Length} character(s)"
              + (hex.All(char.IsAsciiHexDigit) ? "." : ", not all hex.");
    }

    private static void RequireReadableFile(Command command, Option<string> file) =>
        command.Validators.Add(result =>
        {
            var path = result.GetValue(file);
            if (path is not null and not "-" && !File.Exists(path))
            {
                result.AddError($"--file: no such file '{path}'.");
            }
        });
}
