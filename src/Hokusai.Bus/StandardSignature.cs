using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>The Standard Webhooks <c>webhook-timestamp</c> and <c>webhook-signature</c> of one attempt.</summary>
internal sealed record StandardSignature(string Timestamp, string Signature);
