using System.Text;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.Tests.Contracts;
using Hokusai.Bus.TestSupport;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>
/// <c>WEBHOOK_PAYLOAD_FORMAT=mlflow</c> (<c>PayloadFormat</c> per endpoint): the consumer sends what the pipeline's own
/// publisher sends, byte for byte, with both of its headers, signed with the endpoint's own secret.
/// </summary>
public sealed class PayloadFormatTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private WebhookReceiver _site = null!;

    public async Task InitializeAsync() => _site = await WebhookReceiver.StartAsync("test-webhook-secret-key");

    public async Task DisposeAsync() => await _site.DisposeAsync();

    [Theory]
    [MemberData(nameof(TestVectors.MlflowNames), MemberType = typeof(TestVectors))]
    public async Task An_mlflow_endpoint_receives_exactly_what_the_pipelines_publisher_sent(string name)
    {
        var vector = TestVectors.Mlflow.Single(v => v.Name == name);
        await using var guide = await WebhookReceiver.StartAsync(Harness.Secret);
        await using var harness = await Harness.StartAsync(guide.Url, settings: new Dictionary<string, string?>
        {
            ["Hokusai:Webhook:Endpoints:site:Url"] = _site.Url.ToString(),
            ["Hokusai:Webhook:Endpoints:site:Secret"] = vector.Secret,
            ["Hokusai:Webhook:Endpoints:site:PayloadFormat"] = "mlflow",
        });

        await harness.Test.Bus.Publish(MlflowEventTests.AsGuideRegistration(vector));
        await _site.WaitForAcceptedAsync(1, Wait);
        await guide.WaitForAcceptedAsync(1, Wait);

        var request = Assert.Single(_site.Requests);
        Assert.Equal(Encoding.UTF8.GetString(vector.Body), Encoding.UTF8.GetString(request.Body));
        Assert.Equal(vector.Signature, request.Signature);
        Assert.Equal(vector.IdempotencyKey, request.IdempotencyKey);
        Assert.Equal(vector.Headers["User-Agent"], request.UserAgent);
        Assert.Equal(vector.Headers["Content-Type"], request.ContentType);
        // The default endpoint still gets the guide's body, signed with its own secret.
        var guideRequest = Assert.Single(guide.Requests);
        Assert.Equal(vector.IdempotencyKey, guideRequest.IdempotencyKey);
        Assert.Equal(ModelRegisteredJson.Serialize(ModelRegisteredJson.Deserialize(guideRequest.Body)), guideRequest.Body);
        Assert.True(guideRequest.SignatureValid);
    }
}
