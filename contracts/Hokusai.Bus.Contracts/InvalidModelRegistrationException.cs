namespace Hokusai.Bus.Contracts;

/// <summary>A registration lacks what delivery needs. <see cref="Errors"/> names each field.</summary>
public sealed class InvalidModelRegistrationException : Exception
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public InvalidModelRegistrationException(IReadOnlyList<string> errors)
        : base("Invalid ModelRegistered: " + string.Join(" ", errors))
    {
        Errors = errors;
    }

    /// <summary>One sentence per problem, each starting with the JSON field name.</summary>
    public IReadOnlyList<string> Errors { get; }
}
