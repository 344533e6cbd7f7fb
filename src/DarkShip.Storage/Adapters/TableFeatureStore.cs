using System.Collections.Concurrent;
using System.Globalization;
using DarkShip.Serving.Features;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// Feature groups in Table Storage. Layout, one table per group (<c>features{group}</c>):
/// <list type="bullet">
/// <item>PartitionKey = entity key, so all of an entity's rows sit together and commit in one transaction;</item>
/// <item>RowKey <c>latest</c>: the newest snapshot, for the online point read;</item>
/// <item>RowKey = <see cref="HistoryRowKey"/> (inverted ticks, 19 digits): every snapshot, so the
/// first history row at or after the inverted key of <c>t</c> is the last snapshot at or before <c>t</c>;</item>
/// <item>property <c>AsOf</c> (Edm.DateTime): when the values were true; the others are the values.</item>
/// </list>
/// The <c>FeatureGroups</c> table records each group's properties and types (PK = group, RK = property, <c>Type</c>).
/// </summary>
public sealed class TableFeatureStore : IFeatureStore, IFeatureWriter
{
    /// <summary>The row key of the latest snapshot.</summary>
    public const string LatestRowKey = "latest";

    /// <summary>The property holding a snapshot's timestamp.</summary>
    public const string AsOfProperty = "AsOf";

    /// <summary>The table of group schemas.</summary>
    public const string SchemaTable = "FeatureGroups";

    /// <summary>History rows per page of a history read: a range's snapshots usually fit one page, without fetching a thousand older ones past the range's start.</summary>
    public const int HistoryPageSize = 100;

    private readonly Func<string, TableClient> tableFor;
    private readonly ConcurrentDictionary<string, TableClient> tables = new(StringComparer.Ordinal);
    private readonly TableClient schemas;

    /// <summary>Creates the store over tables made by <paramref name="tableFor"/> (given a table name).</summary>
    public TableFeatureStore(Func<string, TableClient> tableFor)
    {
        this.tableFor = tableFor;
        schemas = tableFor(SchemaTable);
    }

    /// <summary>The table holding <paramref name="group"/>.</summary>
    public static string TableName(string group) => "features" + group.ToLowerInvariant();

    /// <summary>The history row key of a snapshot at <paramref name="asOf"/>: newer snapshots sort first.</summary>
    public static string HistoryRowKey(DateTimeOffset asOf) =>
        (DateTimeOffset.MaxValue.UtcTicks - asOf.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default)
    {
        var entity = await Table(group).GetOrNullAsync(entityKey, LatestRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToRow(entity);
    }

    /// <inheritdoc />
    /// <remarks>The history read of the instant alone: one row, one page of one.</remarks>
    public async ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default) =>
        (await ReadHistoryAsync(group, entityKey, asOf, asOf, pageSize: 1, cancellationToken).ConfigureAwait(false)) is [var row] ? row : null;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        ReadHistoryAsync(group, entityKey, from, to, HistoryPageSize, cancellationToken);

    /// <summary>
    /// From the newest history row at or before <paramref name="to"/> onwards (inverted keys: back in time),
    /// until the first one at or before <paramref name="from"/>: the snapshot in effect when the range begins.
    /// </summary>
    private async ValueTask<IReadOnlyList<FeatureRow>> ReadHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, int pageSize, CancellationToken cancellationToken)
    {
        var rows = new List<FeatureRow>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {entityKey} and RowKey ge {HistoryRowKey(to)} and RowKey lt {LatestRowKey}");
        try
        {
            await foreach (var entity in Table(group).QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var row = ToRow(entity);
                rows.Add(row);
                if (row.AsOf <= from)
                {
                    break;
                }
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // the group's table does not exist: nothing was ever ingested
        }

        return rows;
    }

    /// <inheritdoc />
    public async ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default)
    {
        var properties = new Dictionary<string, FeatureType>(StringComparer.Ordinal);
        try
        {
            await foreach (var row in schemas.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {group}"), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (Enum.TryParse<FeatureType>(row.Get<string>("Type"), out var type))
                {
                    properties[row.RowKey] = type;
                }
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
        }

        return properties.Count == 0 ? null : new FeatureGroupSchema(group, properties);
    }

    /// <inheritdoc />
    public async Task PrepareGroupAsync(FeatureGroupSchema schema, CancellationToken cancellationToken = default)
    {
        await Table(schema.Group).CreateIfMissingAsync(cancellationToken).ConfigureAwait(false);
        await schemas.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false);
        var actions = schema.Properties.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, 
            new TableEntity(schema.Group, p.Key) { ["Type"] = p.Value.ToString() })).ToList();
        foreach (var chunk in actions.Chunk(TableOutcomes.MaxTransactionActions))
        {
            var result = await schemas.TrySubmitAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"could not record the schema of group '{schema.Group}': {result.ErrorCode} {result.ErrorMessage}");
            }
        }
    }

    /// <inheritdoc />
    public async Task<EntityWriteResult> WriteEntityAsync(string group, string entityKey, IReadOnlyList<FeatureSnapshot> snapshots, CancellationToken cancellationToken = default)
    {
        // One row per instant (a later line for the same instant wins), oldest first.
        var byInstant = new SortedDictionary<DateTimeOffset, FeatureSnapshot>();
        foreach (var s in snapshots)
        {
            byInstant[s.AsOf] = s;
        }

        var ordered = byInstant.Values.ToList();
        var table = Table(group);
        for (var attempt = 0; ; attempt++)
        {
            var latest = await table.GetOrNullAsync(entityKey, LatestRowKey, [AsOfProperty], cancellationToken).ConfigureAwait(false);
            var actions = ordered.Select(s => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(entityKey, HistoryRowKey(s.AsOf), s))).ToList();
            var newest = ordered[^1];
            if (latest is null)
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, ToEntity(entityKey, LatestRowKey, newest)));
            }
            else if (latest.Get<DateTimeOffset>(AsOfProperty) <= newest.AsOf)
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(entityKey, LatestRowKey, newest), latest.ETag));
            }

            // History first, the latest row in the last transaction: a failure part-way leaves the latest row as it was.
            // More than one transaction: what the history held before is read first, so that a failure part-way
            // can put it back and the entity is written whole or not at all.
            var chunks = actions.Chunk(TableOutcomes.MaxTransactionActions).ToList();
            var before = chunks.Count > 1 ? await HistoryAsync(table, entityKey, ordered, cancellationToken).ConfigureAwait(false) : null;
            TableTransactionResult? failed = null;
            var committed = 0;
            foreach (var chunk in chunks)
            {
                var result = await table.TrySubmitAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    failed = result;
                    break;
                }

                committed++;
            }

            if (failed is not null && committed > 0 && before is not null)
            {
                if (await UndoAsync(table, chunks.Take(committed).SelectMany(c => c), before, cancellationToken).ConfigureAwait(false) is { } undoError)
                {
                    return new EntityWriteResult(entityKey, 0, $"{failed.FailedStatus} {failed.ErrorCode}: {failed.ErrorMessage}; and {undoError}: some of its history rows stay written, run the ingest again");
                }
            }

            if (failed is null)
            {
                return new EntityWriteResult(entityKey, ordered.Count, null);
            }

            // 409/412 on the latest row: another writer moved it meanwhile; read it again and retry.
            if (failed.FailedStatus is 409 or 412 && attempt < 3)
            {
                continue;
            }

            return new EntityWriteResult(entityKey, 0, $"{failed.FailedStatus} {failed.ErrorCode}: {failed.ErrorMessage}");
        }
    }

    /// <summary>The entity's history rows between the oldest and newest instants being written, as they are now.</summary>
    private static async Task<Dictionary<string, TableEntity>> HistoryAsync(TableClient table, string entityKey, List<FeatureSnapshot> ordered, CancellationToken cancellationToken)
    {
        string from = HistoryRowKey(ordered[^1].AsOf), to = HistoryRowKey(ordered[0].AsOf); // inverted: newest sorts first
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {entityKey} and RowKey ge {from} and RowKey le {to}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows[row.RowKey] = row;
        }

        return rows;
    }

    /// <summary>Puts back the history rows the committed transactions overwrote and removes those they added; the reason it could not, or null.</summary>
    private static async Task<string?> UndoAsync(TableClient table, IEnumerable<TableTransactionAction> committed, Dictionary<string, TableEntity> before, CancellationToken cancellationToken)
    {
        var undo = committed.Select(a => before.TryGetValue(a.Entity.RowKey, out var old)
            ? new TableTransactionAction(TableTransactionActionType.UpsertReplace, old)
            : new TableTransactionAction(TableTransactionActionType.Delete, a.Entity)).ToList();
        try
        {
            foreach (var chunk in undo.Chunk(TableOutcomes.MaxTransactionActions))
            {
                var result = await table.TrySubmitAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    return $"undoing it failed ({result.FailedStatus} {result.ErrorCode})";
                }
            }
        }
        catch (Azure.RequestFailedException e)
        {
            return $"undoing it failed ({e.Status} {e.ErrorCode})";
        }

        return null;
    }

    private TableClient Table(string group) => tables.GetOrAdd(group, g => tableFor(TableName(g)));

    private static TableEntity ToEntity(string entityKey, string rowKey, FeatureSnapshot snapshot)
    {
        var entity = new TableEntity(entityKey, rowKey) { [AsOfProperty] = snapshot.AsOf.ToUniversalTime() };
        foreach (var (name, value) in snapshot.Values)
        {
            entity[name] = value;
        }

        return entity;
    }

    private static FeatureRow ToRow(TableEntity entity)
    {
        var values = new Dictionary<string, object>(entity.Count, StringComparer.Ordinal);
        var asOf = DateTimeOffset.MinValue;
        foreach (var (name, value) in entity)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue; // the SDK reads the keys and system properties into the same dictionary
            }

            switch (value)
            {
                case DateTimeOffset at when name == AsOfProperty:
                    asOf = at;
                    break;
                case double d:
                    values[name] = d;
                    break;
                case int i:
                    values[name] = (double)i;
                    break;
                case long l:
                    values[name] = (double)l;
                    break;
                case bool or string:
                    values[name] = value;
                    break;
            }
        }

        return new FeatureRow(asOf, values);
    }
}
