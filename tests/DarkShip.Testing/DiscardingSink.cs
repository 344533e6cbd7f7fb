using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;

namespace DarkShip.Testing;

/// <summary>A sink for a deployment without a destination configured: batches are accepted and discarded.</summary>
public sealed class DiscardingSink<T> : IBatchSink<T>
{
    /// <inheritdoc />
    public Task WriteAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken) => Task.CompletedTask;
}
