using System.Text;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;

namespace DarkShip.EventHubs;

/// <summary>Sends mirror events to the <c>mirror</c> hub, each keyed by its entity so one entity's events stay in order.</summary>
public sealed class EventHubsMirrorSink(EventHubProducerClient producer) : IBatchSink<MirrorEvent>
{
    /// <inheritdoc />
    public async Task<BatchDelivery> WriteAsync(IReadOnlyList<MirrorEvent> batch, CancellationToken cancellationToken)
    {
        var events = new OutgoingEvent[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            events[i] = new OutgoingEvent(Encoding.UTF8.GetString(MirrorEventJson.Serialize(batch[i])), batch[i].PartitionKey);
        }

        var sent = await producer.SendAsync(events, cancellationToken).ConfigureAwait(false);
        return new BatchDelivery(sent.Sent, sent.Refused, sent.Failed, sent.Error);
    }
}
