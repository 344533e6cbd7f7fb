namespace DarkShip.Serving.Monitoring;

/// <summary>The windowed aggregates (<c>Aggregates</c> table) ShadowScore writes and PromoteModels and DriftMonitor read.</summary>
public interface IAggregateStore
{
    /// <summary>
    /// Read-modify-write of one window: <paramref name="update"/> gets the stored window (or
    /// <see langword="null"/>) and returns it changed, or <see langword="null"/> when there is nothing to
    /// write. Concurrent writers never lose each other's counts: on a conflict the update runs again
    /// on a fresh read, so it must only depend on what it is given.
    /// </summary>
    Task UpdateAsync(AggregateKey key, Func<WindowAggregate?, WindowAggregate?> update, CancellationToken cancellationToken = default);

    /// <summary>The version's windows, of one stage epoch (or all when <paramref name="epoch"/> is null), whose window started at or after <paramref name="since"/>.</summary>
    Task<IReadOnlyList<WindowAggregate>> ReadAsync(string model, string version, DateTimeOffset? epoch, DateTimeOffset since, CancellationToken cancellationToken = default);
}

/// <summary>An event that could not be processed, kept with its reason (<c>DeadLetters</c> table).</summary>
/// <param name="Source">Where it came from, e.g. <c>mirror/shadow</c>.</param>
/// <param name="Partition">The hub partition.</param>
/// <param name="SequenceNumber">Its sequence number there (with the partition, its identity: a re-delivery overwrites, never duplicates).</param>
/// <param name="EnqueuedTime">When the hub received it.</param>
/// <param name="Reason">Why it was set aside.</param>
/// <param name="Body">The event as received.</param>
public sealed record DeadLetter(string Source, string Partition, long SequenceNumber, DateTimeOffset? EnqueuedTime, string Reason, string Body);

/// <summary>Where unprocessable events go, so a batch can succeed without losing them.</summary>
public interface IDeadLetters
{
    /// <summary>Keeps <paramref name="letter"/>; idempotent for the same source, partition and sequence number.</summary>
    Task AddAsync(DeadLetter letter, CancellationToken cancellationToken = default);
}
