using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus;

/// <summary>One signed POST of a webhook body; knows HTTP, not retries or breakers.</summary>
internal sealed class WebhookHttpSender(IHttpClientFactory httpClients, TimeProvider time)
{
    public const string HttpClientName = "Hokusai.Bus.Webhook";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    /// <summary><c>Hokusai.Bus/&lt;version&gt;</c>, sent as the User-Agent of every delivery.</summary>
    public static readonly string UserAgent = "Hokusai.Bus/" + (typeof(WebhookHttpSender).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    /// <summary>
    /// Sends <paramref name="delivery"/> once. HTTP failures and connection errors come back as a failed
    /// <see cref="AttemptResult"/>; cancellation (the caller's, or the attempt's time-out) throws.
    /// </summary>
    public async Task<AttemptResult> SendAsync(Uri url, WebhookDeliveryRequest delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ReadOnlyMemoryContent(delivery.Body);
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, delivery.Signature);
        request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, delivery.IdempotencyKey);
        request.Headers.TryAddWithoutValidation("User-Agent", delivery.UserAgent);
        if (delivery.DeltaOne is { } deltaOne)
        {
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Timestamp, deltaOne.Timestamp);
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Nonce, deltaOne.Nonce);
        }

        if (delivery.Standard is { } standard)
        {
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Id, delivery.IdempotencyKey);
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Timestamp, standard.Timestamp);
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Signature, standard.Signature);
        }

        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
            return AttemptResult.FromResponse(response.StatusCode, RetryAfter(response));
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.ConnectionError(e);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            || response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter.Date is { } date ? date - time.GetUtcNow() : null;
    }
}
