using System.Text;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Local;

/// <summary>An event as a producer sends it.</summary>
internal sealed record HubEvent(string Body, string? PartitionKey, JsonObject? Properties = null);

/// <summary>An event as the hub stores it: numbered within its partition, stamped with its enqueue time.</summary>
internal sealed record StoredEvent(long SequenceNumber, long Offset, string Body, string? PartitionKey, DateTimeOffset EnqueuedTime, JsonObject Properties);

/// <summary>
/// An in-memory Event Hub for the local runner: a fixed number of partitions, each an ordered log
/// with sequence numbers and offsets. Events with the same partition key always land in the same
/// partition; events without one are spread round-robin. An event leaves its partition only when
/// the consumer checkpoints past it, so an invocation that fails is delivered again (at least once).
/// </summary>
internal sealed class LocalEventHub
{
    private readonly TimeProvider time;
    private int roundRobin = -1;
    private readonly Serving.ProgressSignal checkpointed = new();

    private readonly Action<string, StoredEvent>? stored;

    /// <param name="name">The hub's name.</param>
    /// <param name="partitionCount">Its partitions.</param>
    /// <param name="time">Stamps enqueue times.</param>
    /// <param name="stored">Sees every event as stored, with its partition (Capture).</param>
    public LocalEventHub(string name, int partitionCount, TimeProvider time, Action<string, StoredEvent>? stored = null)
    {
        Name = name;
        this.time = time;
        this.stored = stored;
        Partitions = [.. Enumerable.Range(0, partitionCount).Select(i => new Partition(i.ToString(System.Globalization.CultureInfo.InvariantCulture), checkpointed.Pulse))];
    }

    public string Name { get; }

    public IReadOnlyList<Partition> Partitions { get; }

    /// <summary>Events received and not yet checkpointed, over all partitions.</summary>
    public int Backlog => Partitions.Sum(p => p.Count);

    /// <summary>Waits until every event sent so far has been checkpointed (the consumers are done with it): an explicit drain, no polling.</summary>
    public Task WaitUntilDrainedAsync(CancellationToken cancellationToken) => checkpointed.WaitUntilAsync(() => Backlog == 0, cancellationToken);

    public void Send(IReadOnlyList<HubEvent> events)
    {
        var now = time.GetUtcNow();
        foreach (var e in events)
        {
            var partition = PartitionFor(e.PartitionKey);
            var kept = partition.Append(e, now);
            stored?.Invoke(partition.Id, kept);
        }
    }

    /// <summary>The partition a key maps to: a stable hash, so one entity's events stay in order.</summary>
    public Partition PartitionFor(string? partitionKey)
    {
        if (partitionKey is null)
        {
            return Partitions[(int)((uint)Interlocked.Increment(ref roundRobin) % (uint)Partitions.Count)];
        }

        return Partitions[(int)(Serving.StableHash.Of(partitionKey) % (ulong)Partitions.Count)]; // stable across runs and processes
    }

    /// <summary>One partition's ordered log of events not yet checkpointed.</summary>
    internal sealed class Partition(string id, Action? checkpointed = null)
    {
        private readonly Lock gate = new();
        private readonly List<StoredEvent> pending = [];
        private readonly SemaphoreSlim arrived = new(0);
        private long nextSequence;
        private long nextOffset;

        public string Id { get; } = id;

        public int Count
        {
            get
            {
                lock (gate)
                {
                    return pending.Count;
                }
            }
        }

        public StoredEvent Append(HubEvent e, DateTimeOffset enqueued)
        {
            StoredEvent kept;
            lock (gate)
            {
                kept = new StoredEvent(nextSequence++, nextOffset, e.Body, e.PartitionKey, enqueued, e.Properties ?? []);
                pending.Add(kept);
                nextOffset += Encoding.UTF8.GetByteCount(e.Body);
            }

            arrived.Release();
            return kept;
        }

        /// <summary>Up to <paramref name="max"/> events from the head, waiting until there is at least one.</summary>
        public async Task<IReadOnlyList<StoredEvent>> PeekAsync(int max, CancellationToken cancellationToken)
        {
            while (true)
            {
                lock (gate)
                {
                    if (pending.Count > 0)
                    {
                        return pending.GetRange(0, Math.Min(max, pending.Count));
                    }
                }

                await arrived.WaitAsync(cancellationToken);
            }
        }

        /// <summary>Drops the head of the log through <paramref name="sequenceNumber"/>: those events are done.</summary>
        public void Checkpoint(long sequenceNumber)
        {
            lock (gate)
            {
                var done = pending.FindIndex(e => e.SequenceNumber > sequenceNumber);
                pending.RemoveRange(0, done < 0 ? pending.Count : done);
            }

            checkpointed?.Invoke();
        }
    }
}
