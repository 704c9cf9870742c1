namespace Hokusai.Bus.Contracts;

/// <summary>Checks what delivery needs. Metadata is never checked.</summary>
public static class ModelRegisteredValidation
{
    /// <summary>The longest token symbol accepted.</summary>
    public const int MaxTokenSymbolLength = 64;

    /// <summary>
    /// The longest idempotency key accepted. Keys travel in the <c>X-Hokusai-Idempotency-Key</c> header, so they are
    /// printable ASCII (<c>!</c> to <c>~</c>: no spaces, control characters or non-ASCII text) of at most this length.
    /// </summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>Every problem with <paramref name="message"/>, each naming its JSON field; empty when it is deliverable.</summary>
    public static IReadOnlyList<string> Validate(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        List<string>? errors = null;

        if (string.IsNullOrWhiteSpace(message.ModelId))
        {
            (errors ??= []).Add("model_id is required.");
        }

        if (message.IdempotencyKey.Length > 0 && IdempotencyKeyProblem(message.IdempotencyKey) is { } keyProblem)
        {
            (errors ??= []).Add(keyProblem);
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

        foreach (var (name, value) in message.BaselineMetrics)
        {
            if (!double.IsFinite(value))
            {
                (errors ??= []).Add($"baseline_metrics.{SafeText.Of(name, 64)} must be a finite number; got {value}.");
            }
        }

        if (message.Timestamp == default)
        {
            (errors ??= []).Add("timestamp is required (ISO 8601, e.g. \"2024-01-15T10:30:00Z\").");
        }

        return errors ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Why <paramref name="key"/> cannot be sent as a header, or null when it can.</summary>
    private static string? IdempotencyKeyProblem(string key)
    {
        if (key.Length > MaxIdempotencyKeyLength)
        {
            return $"idempotency_key must be at most {MaxIdempotencyKeyLength} characters; it has {key.Length}.";
        }

        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] is < '!' or > '~')
            {
                var what = key[i] switch
                {
                    ' ' => "a space",
                    < ' ' or '\u007f' => "a control character",
                    _ => "a non-ASCII character",
                };
                return $"idempotency_key must be printable ASCII (no spaces, control characters or non-ASCII text); "
                    + $"it has {what} at position {i}.";
            }
        }

        return null;
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
