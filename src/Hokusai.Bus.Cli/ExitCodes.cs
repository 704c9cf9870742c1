namespace Hokusai.Bus.Cli;

/// <summary>The tool's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done: delivered, valid, healthy.</summary>
    public const int Success = 0;

    /// <summary>The command ran and the answer is no: invalid signature, unhealthy, not delivered, an error.</summary>
    public const int Failure = 1;

    /// <summary>Bad arguments: the message and the usage are printed.</summary>
    public const int Usage = 2;
}
