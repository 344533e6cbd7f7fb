using DarkShip.Serving.Mirror;

namespace DarkShip.Serving.Batching;

/// <summary>Mirror events leave the request path through a <see cref="BatchingQueue{T}"/>.</summary>
public sealed class QueuedMirrorPublisher(BatchingQueue<MirrorEvent> queue) : IMirrorPublisher
{
    /// <inheritdoc />
    public bool TryPublish(MirrorEvent mirrorEvent) => queue.TryEnqueue(mirrorEvent);
}

/// <summary>Model-log rows leave the request path through a <see cref="BatchingQueue{T}"/>.</summary>
public sealed class QueuedPredictionLog(BatchingQueue<PredictionLogEntry> queue) : IPredictionLog
{
    /// <inheritdoc />
    public bool TryAppend(PredictionLogEntry entry) => queue.TryEnqueue(entry);
}

/// <summary>A sink for a deployment without a destination configured: batches are accepted and discarded.</summary>
public sealed class DiscardingSink<T> : IBatchSink<T>
{
    /// <inheritdoc />
    public Task WriteAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken) => Task.CompletedTask;
}
