using System.Collections.Concurrent;

using DarkShip.Serving.Features;

namespace DarkShip.Testing;

/// <summary>
/// A feature store in process memory with the same semantics as the table adapter (latest row,
/// history for as-of reads, newest-wins). It serves tests and the handler-overhead benchmark.
/// </summary>
public sealed class InMemoryFeatureStore : IFeatureStore, IFeatureWriter
{
    private readonly ConcurrentDictionary<(string Group, string Entity), SortedList<DateTimeOffset, FeatureRow>> history = new();
    private readonly ConcurrentDictionary<string, FeatureGroupSchema> schemas = new(StringComparer.Ordinal);

    /// <summary>Adds one snapshot (a convenience for tests).</summary>
    public void Put(string group, string entityKey, DateTimeOffset asOf, IReadOnlyDictionary<string, object> values)
    {
        var rows = history.GetOrAdd((group, entityKey), _ => []);
        lock (rows)
        {
            rows[asOf] = new FeatureRow(asOf, values);
        }

        schemas.AddOrUpdate(
            group,
            _ => new FeatureGroupSchema(group, values.ToDictionary(v => v.Key, v => TypeOf(v.Value), StringComparer.Ordinal)),
            (_, known) => Merge(known, values.ToDictionary(v => v.Key, v => TypeOf(v.Value), StringComparer.Ordinal)));
    }

    /// <inheritdoc />
    public ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default) =>
        GetAsOfAsync(group, entityKey, DateTimeOffset.MaxValue, cancellationToken);

    /// <inheritdoc />
    public ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default)
    {
        if (!history.TryGetValue((group, entityKey), out var rows))
        {
            return ValueTask.FromResult<FeatureRow?>(null);
        }

        lock (rows)
        {
            FeatureRow? found = null;
            foreach (var (at, row) in rows)
            {
                if (at > asOf)
                {
                    break;
                }

                found = row;
            }

            return ValueTask.FromResult(found);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (!history.TryGetValue((group, entityKey), out var rows))
        {
            return ValueTask.FromResult<IReadOnlyList<FeatureRow>>([]);
        }

        lock (rows)
        {
            var inRange = rows.Where(r => r.Key > from && r.Key <= to).Select(r => r.Value).Reverse();
            var atStart = rows.LastOrDefault(r => r.Key <= from).Value;
            return ValueTask.FromResult<IReadOnlyList<FeatureRow>>([.. inRange, .. atStart is null ? [] : new[] { atStart }]);
        }
    }

    /// <inheritdoc />
    public ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(schemas.GetValueOrDefault(group));

    /// <inheritdoc />
    public Task PrepareGroupAsync(FeatureGroupSchema schema, CancellationToken cancellationToken = default)
    {
        schemas.AddOrUpdate(schema.Group, schema, (_, known) => Merge(known, schema.Properties));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<EntityWriteResult> WriteEntityAsync(string group, string entityKey, IReadOnlyList<FeatureSnapshot> snapshots, CancellationToken cancellationToken = default)
    {
        foreach (var s in snapshots)
        {
            Put(group, entityKey, s.AsOf, s.Values);
        }

        return Task.FromResult(new EntityWriteResult(entityKey, snapshots.Count, null));
    }

    private static FeatureType TypeOf(object value) => value switch
    {
        bool => FeatureType.Boolean,
        string => FeatureType.Text,
        _ => FeatureType.Number,
    };

    private static FeatureGroupSchema Merge(FeatureGroupSchema known, IReadOnlyDictionary<string, FeatureType> added)
    {
        var merged = new Dictionary<string, FeatureType>(known.Properties, StringComparer.Ordinal);
        foreach (var (name, type) in added)
        {
            merged[name] = type;
        }

        return known with { Properties = merged };
    }
}
