using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary><c>PublishModelRegistered</c>, the .NET producers' helper, through the harness to a real receiver.</summary>
public sealed class ProducerTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync(Harness.Secret);

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task A_registration_with_extra_keys_is_delivered_with_them_unchanged()
    {
        // The guide's test payload: "test": true in metadata, and an extra key at the top level. MassTransit's envelope
        // wrote such dictionaries as a nested object that no consumer could read; the helper publishes the body itself.
        var registration = ModelRegisteredJson.Deserialize(Encoding.UTF8.GetBytes("""
            {"model_id":"test_model_001","idempotency_key":"k-extra","registered_version":"1","timestamp":"2024-01-15T10:30:00Z",
             "token_symbol":"TEST_TOKEN","baseline_metrics":{"accuracy":0.95},"source":{"from":"test"},
             "metadata":{"model_name":"test-model","test":true,"api_schema":{"z":1,"a":[true]}}}
            """));
        await using var harness = await Harness.StartAsync(_receiver.Url);

        var published = await harness.Test.Bus.PublishModelRegistered(registration);
        await _receiver.WaitForAcceptedAsync(1, TimeSpan.FromSeconds(15));

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal(Encoding.UTF8.GetString(ModelRegisteredJson.Serialize(published)), Encoding.UTF8.GetString(request.Body));
        Assert.Contains("\"test\":true", Encoding.UTF8.GetString(request.Body));
        Assert.Contains("\"source\":{\"from\":\"test\"}", Encoding.UTF8.GetString(request.Body));
    }
}
