using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Hokusai.Bus.Contracts;
using Hokusai.Bus.TestSupport;
using MassTransit;

namespace Hokusai.Bus.Tests.Delivery;

/// <summary>Named webhook endpoints in MassTransit's in-memory harness: the same definitions the host runs.</summary>
public sealed class EndpointsHarnessTests : IAsyncLifetime
{
    private const string TokenSecret = "token-service-secret-5b2c";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private WebhookReceiver _site = null!;
    private WebhookReceiver _token = null!;
    private WebhookReceiver _production = null!;

    public async Task InitializeAsync()
    {
        _site = await WebhookReceiver.StartAsync(Harness.Secret);
        _token = await WebhookReceiver.StartAsync(TokenSecret);
        _production = await WebhookReceiver.StartAsync(Harness.Secret);
    }

    public async Task DisposeAsync()
    {
        await _site.DisposeAsync();
        await _token.DisposeAsync();
        await _production.DisposeAsync();
    }

    [Fact]
    public async Task Each_endpoint_receives_every_registration_its_filter_passes_signed_with_its_own_secret()
    {
        var events = new Events();
        await using var harness = await Harness.StartAsync(_site.Url, settings: new Dictionary<string, string?>
        {
            ["Hokusai:Webhook:Endpoints:token:Url"] = _token.Url.ToString(),
            ["Hokusai:Webhook:Endpoints:token:Secret"] = TokenSecret,
            ["Hokusai:Webhook:Endpoints:prod:Url"] = _production.Url.ToString(),
            ["Hokusai:Webhook:Endpoints:prod:Secret"] = Harness.Secret,
            ["Hokusai:Webhook:Endpoints:prod:Filter:TokenSymbols"] = "TOKEN_ABC",
            ["Hokusai:Webhook:Endpoints:prod:Filter:Tags:environment"] = "production",
        }, listener: events);

        ModelRegistered[] registrations =
        [
            Tagged("TOKEN_ABC", "production"), Tagged("TOKEN_ABC", "staging"), Tagged("TOKEN_XYZ", "production"),
            Harness.Registration() is var untagged ? untagged with { Metadata = untagged.Metadata with { Tags = null } } : null!,
        ];
        foreach (var registration in registrations)
        {
            await harness.Test.Bus.Publish(registration);
        }

        await _site.WaitForAcceptedAsync(4, Wait);
        await _token.WaitForAcceptedAsync(4, Wait);
        await _production.WaitForAcceptedAsync(1, Wait);
        await events.WaitUntilAsync(e => e.Filtered.Count == 3 && e.Delivered.Count == 9, Wait);

        // Every receiver verified each request with its own secret; the token service's secret is not the site's.
        Assert.All(_site.Requests, r => Assert.True(r.SignatureValid));
        Assert.All(_token.Requests, r => Assert.True(r.SignatureValid));
        Assert.NotEqual(_site.Requests.First().Signature, _token.Requests.Single(r => r.IdempotencyKey == _site.Requests.First().IdempotencyKey).Signature);
        Assert.Equal(registrations[0].IdempotencyKey, Assert.Single(_production.Requests).IdempotencyKey);
        Assert.Equal(3, events.Filtered.Count);
        Assert.All(events.Filtered, e => Assert.Equal("prod", e.Endpoint));
        Assert.Equal(4, events.Delivered.Count(e => e.Endpoint == "token"));
        Assert.Equal(4, events.Delivered.Count(e => e.Endpoint == WebhookEndpointNames.Default));
        Assert.False(await harness.Test.Published.Any<Fault<ModelRegistered>>());
    }

    [Fact]
    public async Task A_value_set_in_code_reaches_every_endpoint_but_the_url_and_filter_stay_each_endpoints_own()
    {
        // Code, as an application writes it: the secret, Standard Webhooks headers and a filter, for the default endpoint.
        // The named endpoint sets only its URL in configuration, and inherits the rest from the code.
        var events = new Events();
        await using var harness = await Harness.StartAsync(_site.Url, o =>
        {
            o.StandardSignatures = true;
            o.Filter = new WebhookFilter { TokenSymbols = ["TOKEN_ABC"] };
        }, settings: new Dictionary<string, string?>
        {
            ["Hokusai:Webhook:Endpoints:prod:Url"] = _production.Url.ToString(),
        }, listener: events);
        ModelRegistered[] registrations = [Tagged("TOKEN_ABC", "production"), Tagged("TOKEN_XYZ", "production")];

        foreach (var registration in registrations)
        {
            await harness.Test.Bus.Publish(registration);
        }

        await _production.WaitForAcceptedAsync(2, Wait); // the code's filter is the default endpoint's own, not inherited
        await events.WaitUntilAsync(e => e.Delivered.Count == 3 && e.Filtered.Count == 1, Wait);
        Assert.All(_production.Requests, r => Assert.True(r.SignatureValid)); // signed with the secret set in code
        Assert.All(_production.Requests, r => Assert.True(r.Headers.ContainsKey("webhook-signature"))); // StandardSignatures from code
        Assert.Equal(registrations[0].IdempotencyKey, Assert.Single(_site.Requests).IdempotencyKey);
        Assert.DoesNotContain(_site.Requests, r => r.IdempotencyKey == registrations[1].IdempotencyKey);
    }

    private static ModelRegistered Tagged(string token, string environment)
    {
        var registration = Harness.Registration();
        return registration with
        {
            TokenSymbol = token,
            Metadata = registration.Metadata with { Tags = new Dictionary<string, string> { ["environment"] = environment } },
        };
    }

    private sealed class Events : IWebhookDeliveryListener
    {
        private readonly Recorded _recorded;

        public Events() => _recorded = new Recorded(() => $"{Filtered.Count} filtered, {Delivered.Count} delivered");

        public ConcurrentQueue<WebhookFiltered> Filtered { get; } = new();

        public ConcurrentQueue<WebhookDelivered> Delivered { get; } = new();

        public void Write(WebhookDeliveryEvent deliveryEvent) => _recorded.Record(() =>
        {
            switch (deliveryEvent)
            {
                case WebhookFiltered filtered:
                    Filtered.Enqueue(filtered);
                    break;
                case WebhookDelivered delivered:
                    Delivered.Enqueue(delivered);
                    break;
            }
        });

        public Task WaitUntilAsync(
            Func<Events, bool> condition, TimeSpan timeout, [CallerArgumentExpression(nameof(condition))] string what = "") =>
            _recorded.WaitAsync(() => condition(this), timeout, what);
    }
}
