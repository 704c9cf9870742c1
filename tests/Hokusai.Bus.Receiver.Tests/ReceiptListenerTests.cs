using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Hokusai.Bus.Receiver.Tests;

/// <summary>Every delivery the endpoint answers is reported to the application's <see cref="IWebhookReceiptListener"/>s.</summary>
public sealed class ReceiptListenerTests
{
    [Fact]
    public async Task Processed_duplicate_and_refused_deliveries_are_each_reported_with_key_status_and_reason()
    {
        var receipts = new Recorder();
        await using var host = await ReceiverHost.StartAsync(services: s => s.AddSingleton<IWebhookReceiptListener>(receipts));
        var body = Deliveries.NewBody();

        using var first = await host.PostSignedAsync(body);
        using var second = await host.PostSignedAsync(body);
        using var forged = await host.PostSignedAsync(body, "not-the-secret");
        using var garbage = await host.PostSignedAsync("{\"model_id\": 5}"u8.ToArray());

        var all = receipts.All.ToArray();
        Assert.Equal(
            [WebhookReceiptKind.Processed, WebhookReceiptKind.Duplicate, WebhookReceiptKind.InvalidSignature, WebhookReceiptKind.Invalid],
            all.Select(r => r.Kind));
        Assert.Equal([200, 200, 401, 400], all.Select(r => r.StatusCode));
        Assert.Equal(all[0].IdempotencyKey, all[1].IdempotencyKey);
        Assert.NotNull(all[0].IdempotencyKey);
        Assert.NotNull(all[0].ModelId);
        Assert.Null(all[0].Reason);
        Assert.Null(all[2].IdempotencyKey); // not parsed: nothing from an unauthenticated body is reported
        Assert.Contains("signature", all[2].Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("not-the-secret", all[2].Reason, StringComparison.Ordinal);
        Assert.Contains("model_id", all[3].Reason, StringComparison.Ordinal);
    }

    private sealed class Recorder : IWebhookReceiptListener
    {
        public ConcurrentQueue<WebhookReceipt> All { get; } = new();

        public void Write(WebhookReceipt receipt) => All.Enqueue(receipt);
    }
}
