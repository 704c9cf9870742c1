using System.Diagnostics;
using Hokusai.Bus.Contracts;
using MassTransit;
using RabbitMQ.Client;

namespace Hokusai.Bus.Host.Ingest;

/// <summary>
/// How <c>/ingest</c> puts an event on RabbitMQ: its bytes as they were received, as a bare message
/// (<see cref="BarePipelineEvent"/>: the rest of the event in AMQP properties), persistent, on the exchange MassTransit
/// publishes <see cref="PipelineEvent"/> to, through one RabbitMQ.Client channel with publisher confirms. Every webhook
/// endpoint subscribed to the event gets it as it would from <c>IBus.Publish</c>; MassTransit's publish (its envelope
/// with the body base64 inside, its send pipeline) cost the host about half again as much CPU per registration
/// (docs/PERFORMANCE.md, "Against the floors"). The connection is opened at the first publish and again after any
/// failure, to a reachable node of <c>RABBITMQ_URL</c>; a publish that fails, or that no queue takes, is the caller's 503.
/// </summary>
internal sealed class IngestPublisher(HostSettings settings, IBus bus) : IAsyncDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private Opened? _opened;

    /// <summary>Publishes <paramref name="pipelineEvent"/> and completes when RabbitMQ has confirmed it.</summary>
    public async Task PublishAsync(PipelineEvent pipelineEvent, CancellationToken cancellationToken)
    {
        var opened = Volatile.Read(ref _opened);
        if (opened is not { Channel.IsOpen: true })
        {
            opened = await OpenAsync(cancellationToken).ConfigureAwait(false);
        }

        var properties = BarePipelineEvent.Properties(pipelineEvent, Activity.Current);
        // Mandatory: an event no queue takes (no endpoint bound yet, or a binding removed by hand) is returned and
        // fails the publish, so it is a 503 the pipeline retries, never a 202 for an event stored nowhere.
        await opened.Channel.BasicPublishAsync(opened.Exchange, "", true, properties, pipelineEvent.Body, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Opened> OpenAsync(CancellationToken cancellationToken)
    {
        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_opened is { Channel.IsOpen: true } opened)
            {
                return opened; // another request opened it while this one waited
            }

            var stale = _opened;
            Volatile.Write(ref _opened, null);
            await CloseAsync(stale?.Connection).ConfigureAwait(false);
            var connection = await settings.RabbitMq.ConnectAsync("hokusai-bus ingest", cancellationToken).ConfigureAwait(false);
            try
            {
                var channel = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                    cancellationToken).ConfigureAwait(false);
                // The exchange as MassTransit declares it, so publishing works before any endpoint has bound to it.
                var exchange = ((IRabbitMqMessagePublishTopology<PipelineEvent>)bus.Topology.PublishTopology.GetMessageTopology<PipelineEvent>()).Exchange;
                await channel.ExchangeDeclareAsync(exchange.ExchangeName, exchange.ExchangeType, exchange.Durable, exchange.AutoDelete,
                    exchange.ExchangeArguments.Count > 0 ? new Dictionary<string, object?>(exchange.ExchangeArguments!) : null,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                var fresh = new Opened(connection, channel, exchange.ExchangeName);
                Volatile.Write(ref _opened, fresh);
                return fresh;
            }
            catch (Exception)
            {
                await CloseAsync(connection).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _opening.Release();
        }
    }

    private static async Task CloseAsync(IConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already gone: there is nothing more to close.
        }

        connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _opening.WaitAsync().ConfigureAwait(false);
        try
        {
            var opened = _opened;
            Volatile.Write(ref _opened, null);
            await CloseAsync(opened?.Connection).ConfigureAwait(false);
        }
        finally
        {
            _opening.Release();
        }
    }

    private sealed record Opened(IConnection Connection, IChannel Channel, string Exchange);
}
