namespace Hokusai.Bus.Contracts;

/// <summary>How <see cref="WebhookSigner"/> writes the signature header.</summary>
public enum SignatureFormat
{
    /// <summary><c>&lt;64 lowercase hex&gt;</c>: the integration guide's format. The default.</summary>
    Hex = 0,

    /// <summary><c>sha256=&lt;64 lowercase hex&gt;</c>: GitHub's form, which the original Python publisher sent.</summary>
    Sha256Prefixed = 1,
}
