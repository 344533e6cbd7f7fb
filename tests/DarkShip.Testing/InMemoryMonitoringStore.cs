using DarkShip.Serving.Monitoring;

namespace DarkShip.Testing;

/// <summary>Aggregates and dead letters in process memory. For tests and benchmarks.</summary>
public sealed class InMemoryMonitoringStore : IAggregateStore, IDeadLetters
{
    private readonly Lock gate = new();
    private readonly Dictionary<AggregateKey, WindowAggregate> windows = [];
    private readonly Dictionary<(string, string, long), DeadLetter> letters = [];

    /// <summary>The dead letters kept.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters
    {
        get
        {
            lock (gate)
            {
                return [.. letters.Values];
            }
        }
    }

    /// <inheritdoc />
    public Task UpdateAsync(AggregateKey key, Func<WindowAggregate?, WindowAggregate?> update, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (update(windows.GetValueOrDefault(key) is { } stored ? Copy(stored) : null) is { } changed)
            {
                windows[key] = changed;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WindowAggregate>> ReadAsync(string model, string version, DateTimeOffset? epoch, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<WindowAggregate>>([.. windows.Values
                .Where(w => w.Key.Model == model && w.Key.Version == version && (epoch is null || w.Key.Epoch == epoch) && w.Key.WindowStart >= since)
                .GroupBy(w => w.Key.AllPartitions()) // a window's partitions summed, as TableAggregateStore reads them
                .Select(g => WindowAggregate.Combine([.. g.Select(Copy)]))
                .OrderBy(w => w.Key.WindowStart)]);
        }
    }

    /// <inheritdoc />
    public Task AddAsync(DeadLetter letter, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            letters[(letter.Source, letter.Partition, letter.SequenceNumber)] = letter;
        }

        return Task.CompletedTask;
    }

    private static WindowAggregate Copy(WindowAggregate w)
    {
        var copy = new WindowAggregate(w.Key, w.Arm, w.Prediction.Edges);
        copy.Merge(w); // counts, histograms, fallbacks and samples; watermarks are copied below
        foreach (var (partition, seq) in w.Watermarks)
        {
            copy.Watermarks[partition] = seq;
        }

        return copy;
    }
}
