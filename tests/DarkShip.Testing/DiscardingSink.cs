using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;

namespace DarkShip.Testing;

/// <summary>A sink for a deployment without a destination configured: batches are accepted and discarded.</summary>
public sealed class DiscardingSink<T> : IBatchSink<T>
{
    /// <inheritdoc />
    public Task<BatchDelivery> WriteAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken) => Task.FromResult(BatchDelivery.All(batch.Count));
}
