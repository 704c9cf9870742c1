using System.Security.Cryptography;
using System.Text;

namespace Hokusai.Bus.Contracts;

/// <summary>Idempotency keys that stay the same when one registration is published again.</summary>
public static class IdempotencyKey
{
    // RFC 4122 appendix C: the DNS namespace, 6ba7b810-9dad-11d1-80b4-00c04fd430c8, in network byte order.
    private static ReadOnlySpan<byte> DnsNamespace =>
    [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
    ];

    /// <summary>
    /// The key of a registration, as the original pipeline made it: UUIDv5 in the DNS namespace of
    /// <c>{model_id}:{token_symbol}:{mlflow_run_id}:{registered_version}</c>. An absent run id is written <c>None</c>,
    /// as the Python pipeline's f-string writes it, so both derive the same key for the same registration.
    /// </summary>
    public static string Derive(string modelId, string tokenSymbol, string? mlflowRunId, string registeredVersion) =>
        UuidV5($"{modelId}:{tokenSymbol}:{mlflowRunId ?? "None"}:{registeredVersion}").ToString();

    /// <summary>The key of <paramref name="message"/>: its own when it has one, else <see cref="Derive"/>.</summary>
    public static string For(ModelRegistered message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return string.IsNullOrWhiteSpace(message.IdempotencyKey)
            ? Derive(message.ModelId, message.TokenSymbol, message.Metadata.MlflowRunId, message.RegisteredVersion)
            : message.IdempotencyKey;
    }

    /// <summary>A name-based UUID, version 5 (SHA-1), in the DNS namespace (RFC 9562 section 5.5).</summary>
    public static Guid UuidV5(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[DnsNamespace.Length + nameBytes.Length];
        DnsNamespace.CopyTo(input);
        nameBytes.CopyTo(input.AsSpan(DnsNamespace.Length));

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash[..16], bigEndian: true);
    }
}
