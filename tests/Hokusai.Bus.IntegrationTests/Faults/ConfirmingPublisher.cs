using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Hokusai.Bus.IntegrationTests.Faults;

/// <summary>
/// A producer as the pipeline should be: raw JSON, persistent, publisher confirms, and a retry when the broker is
/// away (a publish is only counted once the broker confirmed it).
/// </summary>
internal sealed class ConfirmingPublisher : IAsyncDisposable
{
    private readonly ConnectionFactory _factory;
    private IConnection? _connection;
    private IChannel? _channel;

    public ConfirmingPublisher(Uri amqp) => _factory = new ConnectionFactory
    {
        Uri = amqp,
        AutomaticRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500),
    };

    public async Task PublishAsync(string json, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var channel = await ChannelAsync();
                await channel.BasicPublishAsync(Scenario.Exchange, "", mandatory: false,
                    new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent },
                    Encoding.UTF8.GetBytes(json));
                return;
            }
            catch (Exception e) when (e is AlreadyClosedException or BrokerUnreachableException or PublishException
                                          or OperationInterruptedException or IOException or TimeoutException
                                      && DateTime.UtcNow < deadline)
            {
                await ResetAsync();
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync() => await ResetAsync();

    private async Task<IChannel> ChannelAsync()
    {
        if (_channel is { IsOpen: true })
        {
            return _channel;
        }

        await ResetAsync();
        _connection = await _factory.CreateConnectionAsync();
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return _channel;
    }

    private async Task ResetAsync()
    {
        try
        {
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }
        catch (Exception e) when (e is AlreadyClosedException or IOException or OperationInterruptedException)
        {
            // Already gone with the broker.
        }

        _channel = null;
        _connection = null;
    }
}
