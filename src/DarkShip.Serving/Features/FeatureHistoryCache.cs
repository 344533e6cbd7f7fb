namespace DarkShip.Serving.Features;

/// <summary>
/// Entities' feature histories held in memory for as-of lookups over many rows (training export with
/// <c>--features</c>, replay): one history read per entity and time range
/// (<see cref="IFeatureStore.GetHistoryAsync"/>, one partition query) answers every as-of lookup of that
/// entity inside the range, instead of one read per row. Bounded: at most <see cref="Budget"/> snapshots
/// are held; the entities used longest ago are dropped first and read again if needed. Same answers as
/// <see cref="IFeatureStore.GetAsOfAsync"/>: the newest snapshot at or before the instant. Not
/// thread-safe: one reader fills and looks up (the reads themselves run in parallel).
/// </summary>
public sealed class FeatureHistoryCache(IFeatureStore store, int budget = FeatureHistoryCache.DefaultBudget, int parallelism = 32)
{
    /// <summary>Snapshots held at most by default (~100 MB at a few hundred bytes each).</summary>
    public const int DefaultBudget = 250_000;

    private readonly Dictionary<(string Group, string Entity), Entry> entries = [];
    private readonly LinkedList<(string Group, string Entity)> recency = new();
    private long generation;

    /// <summary>Snapshots held at most.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), budget, "must be positive");

    /// <summary>Snapshots held now.</summary>
    public int Held { get; private set; }

    /// <summary>History reads made so far.</summary>
    public long Reads { get; private set; }

    /// <summary>
    /// Makes sure every (group, entity) of <paramref name="needs"/> is held for its whole range
    /// [<c>From</c>, <c>To</c>]; what is missing is read, <c>parallelism</c> entities at a time, up to
    /// <paramref name="readAheadTo"/> when that is later (rows come in time order: the next rows of the
    /// entity are then answered from memory too).
    /// </summary>
    public async Task EnsureAsync(IReadOnlyDictionary<(string Group, string Entity), (DateTimeOffset From, DateTimeOffset To)> needs, DateTimeOffset? readAheadTo, CancellationToken cancellationToken = default)
    {
        // What this call needs is never dropped to make room for the rest of it (one call may exceed the budget).
        generation++;
        var missing = new List<KeyValuePair<(string Group, string Entity), (DateTimeOffset From, DateTimeOffset To)>>();
        foreach (var need in needs)
        {
            if (entries.TryGetValue(need.Key, out var entry) && entry.From <= need.Value.From && need.Value.To <= entry.To)
            {
                entry.Generation = generation;
                recency.Remove(entry.Node!);
                recency.AddFirst(entry.Node!); // this call's entries sit before every older one
            }
            else
            {
                missing.Add(need);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        var read = new (string Group, string Entity, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<FeatureRow> Rows)[missing.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, missing.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var ((group, entity), (from, to)) = missing[i];
                var until = readAheadTo is { } ahead && ahead > to ? ahead : to;
                read[i] = (group, entity, from, until, await store.GetHistoryAsync(group, entity, from, until, ct).ConfigureAwait(false));
            }).ConfigureAwait(false);
        Reads += missing.Count;
        foreach (var (group, entity, from, to, rows) in read)
        {
            Hold((group, entity), new Entry(from, to, [.. rows]));
        }
    }

    /// <summary>The entity's snapshot as of <paramref name="at"/> (the newest at or before it, or <see langword="null"/>), from a range held: call <see cref="EnsureAsync"/> first.</summary>
    public FeatureRow? AsOf(string group, string entity, DateTimeOffset at)
    {
        if (!entries.TryGetValue((group, entity), out var entry) || at < entry.From || at > entry.To)
        {
            throw new InvalidOperationException($"{group}/{entity} as of {at:O} is not held: EnsureAsync first");
        }

        recency.Remove(entry.Node!);
        recency.AddFirst(entry.Node!);
        foreach (var row in entry.Rows) // newest first
        {
            if (row.AsOf <= at)
            {
                return row;
            }
        }

        return null;
    }

    private void Hold((string Group, string Entity) key, Entry entry)
    {
        if (entries.Remove(key, out var old))
        {
            recency.Remove(old.Node!);
            Held -= old.Rows.Length;
        }

        entry.Node = recency.AddFirst(key);
        entry.Generation = generation;
        entries[key] = entry;
        Held += entry.Rows.Length;
        while (Held > Budget && recency.Last is { } oldest && entries[oldest.Value].Generation < generation)
        {
            Held -= entries[oldest.Value].Rows.Length;
            entries.Remove(oldest.Value);
            recency.RemoveLast();
        }
    }

    /// <summary>An entity's snapshots in effect during [From, To], newest first.</summary>
    private sealed class Entry(DateTimeOffset from, DateTimeOffset to, FeatureRow[] rows)
    {
        public DateTimeOffset From { get; } = from;

        public DateTimeOffset To { get; } = to;

        public FeatureRow[] Rows { get; } = rows;

        public LinkedListNode<(string Group, string Entity)>? Node { get; set; }

        /// <summary>The last <see cref="EnsureAsync"/> that needed it.</summary>
        public long Generation { get; set; }
    }
}
