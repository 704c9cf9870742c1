namespace Hokusai.Bus.Contracts;

/// <summary>Checks what delivery needs. Metadata is never checked.</summary>
public static class ModelRegisteredValidation
{
    /// <summary>The longest token symbol accepted.</summary>
    public const int MaxTokenSymbolLength = 64;

    /// <summary>Every problem with <paramref name="message"/>, each naming its JSON field; empty when it is deliverable.</summary>
    public static IReadOnlyList<string> Validate(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        List<string>? errors = null;

        if (string.IsNullOrWhiteSpace(message.ModelId))
        {
            (errors ??= []).Add("model_id is required.");
        }

        if (string.IsNullOrWhiteSpace(message.TokenSymbol))
        {
            (errors ??= []).Add("token_symbol is required.");
        }
        else if (message.TokenSymbol.Length > MaxTokenSymbolLength)
        {
            (errors ??= []).Add(
                $"token_symbol must be 1 to {MaxTokenSymbolLength} characters; it has {message.TokenSymbol.Length}.");
        }

        if (string.IsNullOrWhiteSpace(message.RegisteredVersion))
        {
            (errors ??= []).Add("registered_version is required.");
        }

        if (message.Timestamp == default)
        {
            (errors ??= []).Add("timestamp is required (ISO 8601, e.g. \"2024-01-15T10:30:00Z\").");
        }

        return errors ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Throws <see cref="InvalidModelRegistrationException"/> listing every problem, if there is any.</summary>
    public static void EnsureValid(ModelRegistered message)
    {
        var errors = Validate(message);
        if (errors.Count > 0)
        {
            throw new InvalidModelRegistrationException(errors);
        }
    }
}

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
