namespace Hokusai.Bus.Cli;

/// <summary>Bad arguments found after parsing (e.g. a payload file that is not a registration): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
