using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Receiver;

/// <summary>Stops the host at start-up on a missing or impossible setting. No message contains a secret.</summary>
internal sealed class HokusaiReceiverOptionsValidator : IValidateOptions<HokusaiReceiverOptions>
{
    /// <summary>The current secret and at most this many minus one previous ones.</summary>
    internal const int MaxSecrets = 8;

    /// <summary>The largest <see cref="HokusaiReceiverOptions.MaxBodyBytes"/>: 1 GiB, one buffer.</summary>
    internal const long MaxBodyBytesLimit = 1024 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, HokusaiReceiverOptions options)
    {
        var errors = new List<string>();

        if (string.IsNullOrEmpty(options.Secret))
        {
            errors.Add("HokusaiReceiverOptions.Secret is required: the WEBHOOK_SECRET the sender signs with.");
        }
        else
        {
            CheckStandardForm(options.Secret, "Secret", errors);
        }

        var previous = options.PreviousSecrets ?? [];
        if (previous.Count > MaxSecrets - 1)
        {
            errors.Add($"HokusaiReceiverOptions.PreviousSecrets may hold at most {MaxSecrets - 1} secrets; it has {previous.Count}.");
        }

        for (var i = 0; i < previous.Count; i++)
        {
            if (string.IsNullOrEmpty(previous[i]))
            {
                errors.Add($"HokusaiReceiverOptions.PreviousSecrets[{i}] is empty.");
            }
            else
            {
                CheckStandardForm(previous[i], $"PreviousSecrets[{i}]", errors);
            }
        }

        if (options.MaxBodyBytes is < 1 or > MaxBodyBytesLimit)
        {
            errors.Add($"HokusaiReceiverOptions.MaxBodyBytes must be from 1 to {MaxBodyBytesLimit} (1 GiB); got {options.MaxBodyBytes}.");
        }

        if (options.BodyTimeout <= TimeSpan.Zero)
        {
            errors.Add($"HokusaiReceiverOptions.BodyTimeout must be more than 0; got {options.BodyTimeout}.");
        }

        if (options.IdempotencyKeyTtl <= TimeSpan.Zero)
        {
            errors.Add($"HokusaiReceiverOptions.IdempotencyKeyTtl must be more than zero; got {options.IdempotencyKeyTtl}.");
        }

        if (options.ClaimLeaseTime <= TimeSpan.Zero)
        {
            errors.Add($"HokusaiReceiverOptions.ClaimLeaseTime must be more than zero; got {options.ClaimLeaseTime}.");
        }
        else if (options.ClaimLeaseTime > options.IdempotencyKeyTtl && options.IdempotencyKeyTtl > TimeSpan.Zero)
        {
            errors.Add("HokusaiReceiverOptions.ClaimLeaseTime must not be longer than IdempotencyKeyTtl.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckStandardForm(string secret, string what, List<string> errors)
    {
        try
        {
            _ = new StandardWebhookVerifier(secret);
        }
        catch (ArgumentException)
        {
            // The contracts' message never contains the secret; neither does ours.
            errors.Add($"HokusaiReceiverOptions.{what} starts with 'whsec_' but the rest is not a base64 key.");
        }
    }
}
