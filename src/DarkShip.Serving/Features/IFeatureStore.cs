namespace DarkShip.Serving.Features;

/// <summary>
/// Where feature values live: per group, a latest snapshot per entity for the online point read,
/// and the history of snapshots for reads <em>as of</em> an instant (shadow scoring, replay,
/// training export).
/// </summary>
public interface IFeatureStore
{
    /// <summary>The entity's newest snapshot in <paramref name="group"/>, or <see langword="null"/> when it has none.</summary>
    ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// The last snapshot written for the entity with a timestamp at or before <paramref name="asOf"/>,
    /// or <see langword="null"/> when there is none. Later writes never leak into the answer.
    /// </summary>
    ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default);

    /// <summary>
    /// The entity's snapshots in effect at some instant of [<paramref name="from"/>, <paramref name="to"/>],
    /// newest first: every one with a timestamp after <paramref name="from"/> and at or before
    /// <paramref name="to"/>, then the newest at or before <paramref name="from"/> (if any). One read of
    /// the entity's history (one partition query), from which any as-of read inside the range can be
    /// answered: the first row at or before the instant (<see cref="FeatureHistoryCache"/>).
    /// </summary>
    ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>The group's recorded properties, or <see langword="null"/> when nothing was ever ingested into it.</summary>
    ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default);
}

/// <summary>One snapshot to ingest.</summary>
/// <param name="EntityKey">The entity it describes.</param>
/// <param name="AsOf">When the values were true.</param>
/// <param name="Values">Property values (<see cref="double"/>, <see cref="bool"/> or <see cref="string"/>); absent means missing.</param>
/// <param name="Line">Where it came from in the input, for error reports.</param>
public sealed record FeatureSnapshot(string EntityKey, DateTimeOffset AsOf, IReadOnlyDictionary<string, object> Values, long Line);

/// <summary>What writing one entity's snapshots came to.</summary>
/// <param name="EntityKey">The entity.</param>
/// <param name="Written">Snapshots written (all of the entity's, or none).</param>
/// <param name="Error">Why nothing was written, or <see langword="null"/> on success.</param>
public sealed record EntityWriteResult(string EntityKey, int Written, string? Error)
{
    /// <summary>Whether the entity's snapshots were written.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>Writes feature snapshots: what <c>darkship features ingest</c> drives.</summary>
public interface IFeatureWriter
{
    /// <summary>Creates the group's storage if needed and records its schema (properties are added, never removed).</summary>
    Task PrepareGroupAsync(FeatureGroupSchema schema, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes one entity's snapshots atomically per storage transaction: history rows for every
    /// snapshot, and the latest row when the newest snapshot is at least as new as the stored one
    /// (an older file never overwrites newer values). Writing the same snapshots again is harmless.
    /// </summary>
    Task<EntityWriteResult> WriteEntityAsync(string group, string entityKey, IReadOnlyList<FeatureSnapshot> snapshots, CancellationToken cancellationToken = default);
}
