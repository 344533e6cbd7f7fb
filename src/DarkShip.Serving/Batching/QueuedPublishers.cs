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
