using Hokusai.Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus;

/// <summary>The attribute rules on <see cref="HokusaiWebhookOptions"/> (<c>[Required]</c>, <c>[Range]</c>), source-generated.</summary>
[OptionsValidator]
internal sealed partial class HokusaiWebhookOptionsAttributeValidator : IValidateOptions<HokusaiWebhookOptions>;

/// <summary>
/// Stops the host at start-up when a setting is missing, out of range or inconsistent with another. Runs the generated
/// attribute rules, then the rules attributes cannot say (durations in seconds, the hold against the timeout, the
/// URL's scheme, rotation secrets). Every message starts with the name of the setting to fix: the one that gave the value
/// (<see cref="SettingsReport"/>), else the endpoint's own key (<see cref="HokusaiSettingNames"/>); none contains a secret.
/// </summary>
internal sealed class HokusaiWebhookOptionsValidator(HokusaiSettingNames names, SettingsReports<HokusaiWebhookOptions> reports)
    : IValidateOptions<HokusaiWebhookOptions>
{
    /// <summary>The longest <c>WEBHOOK_MAX_HOLD</c>: a margin below RabbitMQ's default 30 min consumer (ack) timeout.</summary>
    internal static readonly TimeSpan MaxHoldTime = TimeSpan.FromMinutes(20);

    /// <summary>The shortest <c>WEBHOOK_TIMEOUT</c>: below a millisecond no HTTP request can complete.</summary>
    internal static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(1);

    private static readonly HokusaiWebhookOptionsAttributeValidator Attributes = new();

    /// <summary><c>model_registered</c>, or <c>deltaone.</c> and 1 to 60 lowercase letters, digits, '_' or '.'.</summary>
    private static bool IsEventType(string type) =>
        type == PipelineEvent.ModelRegisteredType
        || (PipelineEvent.IsDeltaOne(type) && type.Length <= 69
            && type.AsSpan(PipelineEvent.DeltaOnePrefix.Length).IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789_.") < 0);

    public ValidateOptionsResult Validate(string? name, HokusaiWebhookOptions options)
    {
        // What could not be read is reported as read; no other rule is applied to that setting.
        var report = reports.Of(name);
        var errors = new List<string>(report.Errors.Values);
        string NameOf(string member) => report.NameOf(member, $"{WebhookEndpointNames.SectionOf(name)}:{member}", names);
        void Fail(string member, string message)
        {
            if (!report.Errors.ContainsKey(member))
            {
                errors.Add($"{NameOf(member)} {message}");
            }
        }

        // The attributes' rules. A failure reads "Member: <message>"; a [Range] message starts "The field <display name> "
        // (the generator's copy of [Range] ignores ErrorMessage), which is cut: the setting's name replaces it.
        foreach (var failure in Attributes.Validate(name, options).Failures ?? [])
        {
            var (member, message) = failure.Split(": ", 2) is [var m, var text] ? (m, text) : ("", failure);
            var display = $"The field {(string.IsNullOrEmpty(name) ? nameof(HokusaiWebhookOptions) : name)}.{member} ";
            Fail(member, message.StartsWith(display, StringComparison.Ordinal) ? message[display.Length..] : message);
        }

        if (options.Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            Fail(nameof(options.Url), $"must be an absolute http or https URL; got '{WebhookUrl.Redact(url)}'.");
        }
        else if (options.Url is { Scheme: "http", IsLoopback: false } plain && !options.AllowHttp)
        {
            Fail(nameof(options.Url), $"is plain http:// to {WebhookUrl.Redact(plain)}, which is not loopback: use https://, "
                + $"or set {NameOf(nameof(options.AllowHttp))}=true to send signed registrations unencrypted (a private network).");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.Timeout), "must be greater than 0 seconds.");
        }
        else if (options.Timeout < MinTimeout)
        {
            Fail(nameof(options.Timeout), $"must be at least {MinTimeout.TotalSeconds:0.###} seconds.");
        }

        if (options.MaxHold < TimeSpan.FromSeconds(1) || options.MaxHold > MaxHoldTime)
        {
            Fail(nameof(options.MaxHold), $"must be between 1 and {MaxHoldTime.TotalSeconds:0} seconds "
                + "(RabbitMQ closes the channel of a message unacknowledged for 30 minutes).");
        }
        else if (options.Timeout >= options.MaxHold && !report.Errors.ContainsKey(nameof(options.Timeout)))
        {
            if (options.MaxHold != HokusaiWebhookOptions.DefaultMaxHold)
            {
                Fail(nameof(options.MaxHold), $"must be longer than {NameOf(nameof(options.Timeout))}: one attempt has to fit in the hold.");
            }
            else
            {
                // The user set only the timeout: name it, and the default it collides with, and the fix.
                var fix = options.Timeout < MaxHoldTime
                    ? $"set {NameOf(nameof(options.MaxHold))} above {options.Timeout.TotalSeconds:0.###} (at most {MaxHoldTime.TotalSeconds:0}), or lower the timeout."
                    : $"the timeout must be under {MaxHoldTime.TotalSeconds:0} seconds, the longest hold.";
                Fail(nameof(options.Timeout), $"({options.Timeout.TotalSeconds:0.###} s) must be shorter than {NameOf(nameof(options.MaxHold))}, "
                    + $"whose default is {options.MaxHold.TotalSeconds:0} s, since one attempt has to fit in the hold: {fix}");
            }
        }

        if (options.RetryDelay < TimeSpan.Zero)
        {
            Fail(nameof(options.RetryDelay), "must not be negative.");
        }

        if (options.CircuitBreakerRecoveryTime <= TimeSpan.Zero || options.CircuitBreakerRecoveryTime > MaxHoldTime)
        {
            Fail(nameof(options.CircuitBreakerRecoveryTime), $"must be more than 0 and at most {MaxHoldTime.TotalSeconds:0} seconds.");
        }

        if (options.EventTypes.Count == 0)
        {
            Fail(nameof(options.EventTypes), $"must name at least one event type: {PipelineEvent.ModelRegisteredType} or a deltaone.* type.");
        }
        else if (options.EventTypes.FirstOrDefault(t => !IsEventType(t)) is { } bad)
        {
            Fail(nameof(options.EventTypes), $"may name {PipelineEvent.ModelRegisteredType} and deltaone.<name> types (lowercase letters, digits, "
                + $"'_' and '.'); '{Contracts.SafeText.Of(bad, 60)}' is not one.");
        }

        if (options.RotationSecrets.Any(string.IsNullOrEmpty) || options.RotationSecrets.Count > 7)
        {
            Fail(nameof(options.RotationSecrets), "must be at most 7 non-empty comma-separated secrets.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
