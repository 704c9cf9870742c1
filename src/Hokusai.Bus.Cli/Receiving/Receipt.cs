using Hokusai.Bus.Contracts;
using Hokusai.Bus.Receiver;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.Cli.Receiving;

/// <summary>One request as the receiver saw it.</summary>
internal sealed record Receipt(
    int Number,
    ReceiptKind Kind,
    int Status,
    string? IdempotencyKey,
    string? ModelId,
    bool? SignatureValid,
    string Detail);
