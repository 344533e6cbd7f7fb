using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace DarkShip.Storage.Tables;

/// <summary>
/// What the adapters ask of Azure.Data.Tables' <see cref="TableClient"/>, with the outcomes they
/// branch on typed instead of thrown: an insert whose keys are taken, an update that lost a race
/// (412), a transaction refused with the index of its failing action. Every key is checked with
/// <see cref="TableKeys"/> before a request leaves (the SDK sends whatever it is given), every
/// entity is made storable with <see cref="TableValues.ForWrite"/>, and a transaction is checked
/// against the service's rules (one partition, ≤ 100 actions, each row once) before it is sent:
/// Azurite answers a 101-action batch with a parse error, not the service's clear refusal.
/// </summary>
public static class TableOutcomes
{
    /// <summary>Most actions one entity-group transaction may hold.</summary>
    public const int MaxTransactionActions = 100;

    /// <summary>Creates the table unless it exists; returns whether it was created.</summary>
    /// <remarks>
    /// Not the SDK's <c>CreateIfNotExistsAsync</c>: that one serializes its request with
    /// reflection-based System.Text.Json, which the trimmed package switches off
    /// (<c>JsonSerializerIsReflectionEnabledByDefault</c>); <see cref="TableClient.CreateAsync"/> writes
    /// its body with the SDK's generated writer. BannedSymbols.txt keeps the other one out.
    /// </remarks>
    public static async Task<bool> CreateIfMissingAsync(this TableClient table, CancellationToken cancellationToken = default)
    {
        try
        {
            await table.CreateAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false; // TableAlreadyExists
        }
    }

    /// <summary>Reads one entity, or <see langword="null"/> when there is none.</summary>
    /// <param name="table">The table.</param>
    /// <param name="partitionKey">Its partition key.</param>
    /// <param name="rowKey">Its row key.</param>
    /// <param name="select">Properties to return (all when omitted).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<TableEntity?> GetOrNullAsync(this TableClient table, string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(partitionKey, nameof(partitionKey));
        TableKeys.Validate(rowKey, nameof(rowKey));
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, select, cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>
    /// Every entity matching <paramref name="filter"/>, a page at a time as the caller reads, with a
    /// table that does not exist (yet) reading as empty: for tables created on first write, read by
    /// callers that may come first.
    /// </summary>
    /// <param name="table">The table.</param>
    /// <param name="filter">A filter built with <see cref="TableClient.CreateQueryFilter(FormattableString)"/>.</param>
    /// <param name="select">Properties to return (all when omitted).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public static async IAsyncEnumerable<TableEntity> QueryIfExistsAsync(this TableClient table, string? filter, IEnumerable<string>? select = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var rows = table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await rows.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    yield break; // no table yet: nothing stored
                }

                yield return rows.Current;
            }
        }
        finally
        {
            await rows.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Inserts <paramref name="entity"/>; <see cref="TableWriteStatus.AlreadyExists"/> if its keys are taken, <see cref="TableWriteStatus.NotFound"/> if the table is missing.</summary>
    public static async Task<TableWriteResult> TryAddAsync(this TableClient table, TableEntity entity, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await table.AddEntityAsync(TableValues.ForWrite(entity), cancellationToken).ConfigureAwait(false);
            return Written(entity, response.Headers.ETag);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 404)
        {
            return new TableWriteResult(e.Status == 409 ? TableWriteStatus.AlreadyExists : TableWriteStatus.NotFound, default);
        }
    }

    /// <summary>
    /// Writes <paramref name="entity"/> over the existing one if it is still at <paramref name="ifMatch"/>
    /// (<see cref="ETag.All"/>: whatever its version). <see cref="TableWriteStatus.PreconditionFailed"/>
    /// when someone else wrote first, <see cref="TableWriteStatus.NotFound"/> when there is no entity.
    /// </summary>
    public static async Task<TableWriteResult> TryUpdateAsync(this TableClient table, TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await table.UpdateEntityAsync(TableValues.ForWrite(entity), ifMatch == default ? ETag.All : ifMatch, mode, cancellationToken).ConfigureAwait(false);
            return Written(entity, response.Headers.ETag);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return new TableWriteResult(e.Status == 412 ? TableWriteStatus.PreconditionFailed : TableWriteStatus.NotFound, default);
        }
    }

    /// <summary>Inserts <paramref name="entity"/>, or replaces (or merges into) the one with its keys. Unconditional; failures throw.</summary>
    public static async Task<ETag> UpsertAsync(this TableClient table, TableEntity entity, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        var response = await table.UpsertEntityAsync(TableValues.ForWrite(entity), mode, cancellationToken).ConfigureAwait(false);
        return Written(entity, response.Headers.ETag).ETag;
    }

    /// <summary>Deletes an entity if it is at <paramref name="ifMatch"/> (default: whatever its version).</summary>
    public static async Task<TableWriteResult> TryDeleteAsync(this TableClient table, string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(partitionKey, nameof(partitionKey));
        TableKeys.Validate(rowKey, nameof(rowKey));
        try
        {
            var response = await table.DeleteEntityAsync(partitionKey, rowKey, ifMatch == default ? ETag.All : ifMatch, cancellationToken).ConfigureAwait(false);
            return response.Status == 404
                ? new TableWriteResult(TableWriteStatus.NotFound, default) // the SDK answers a missing entity instead of throwing
                : new TableWriteResult(TableWriteStatus.Written, default);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return new TableWriteResult(e.Status == 412 ? TableWriteStatus.PreconditionFailed : TableWriteStatus.NotFound, default);
        }
    }

    /// <summary>
    /// Applies up to <see cref="MaxTransactionActions"/> actions on one partition all together or not
    /// at all. A failed action (an insert whose keys are taken, a stale ETag…) is an outcome: the
    /// result says which and why, and nothing was written. Anything else (the service unreachable,
    /// throttled past the retries) throws.
    /// </summary>
    /// <exception cref="ArgumentException">The actions break a rule of transactions; nothing was sent.</exception>
    public static async Task<TableTransactionResult> TrySubmitAsync(this TableClient table, IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        Check(actions);
        var prepared = new TableTransactionAction[actions.Count];
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            prepared[i] = new TableTransactionAction(
                action.ActionType,
                action.ActionType == TableTransactionActionType.Delete ? action.Entity : TableValues.ForWrite((TableEntity)action.Entity),
                action.ActionType is TableTransactionActionType.Delete or TableTransactionActionType.UpdateMerge or TableTransactionActionType.UpdateReplace && action.ETag == default ? ETag.All : action.ETag);
        }

        try
        {
            await table.SubmitTransactionAsync(prepared, cancellationToken).ConfigureAwait(false);
            return TableTransactionResult.Applied;
        }
        catch (TableTransactionFailedException e)
        {
            return new TableTransactionResult(false, e.FailedTransactionActionIndex, e.Status, e.ErrorCode, FirstLine(e.Message));
        }
    }

    /// <summary>Checks a transaction against the service's rules before anything is sent.</summary>
    /// <exception cref="ArgumentException">It breaks one; the message says which.</exception>
    public static void Check(IReadOnlyList<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxTransactionActions)
        {
            throw new ArgumentException($"A transaction holds 1 to {MaxTransactionActions} actions; this one has {actions.Count}.", nameof(actions));
        }

        var partition = actions[0].Entity.PartitionKey;
        var rows = new HashSet<string>(StringComparer.Ordinal);
        foreach (var action in actions)
        {
            if (action.Entity is not TableEntity)
            {
                throw new ArgumentException("DarkShip's transactions carry TableEntity rows.", nameof(actions));
            }

            TableKeys.Validate(action.Entity.PartitionKey, nameof(actions));
            TableKeys.Validate(action.Entity.RowKey, nameof(actions));
            if (action.Entity.PartitionKey != partition)
            {
                throw new ArgumentException($"A transaction stays in one partition: '{partition}' and '{action.Entity.PartitionKey}' differ.", nameof(actions));
            }

            if (!rows.Add(action.Entity.RowKey))
            {
                throw new ArgumentException($"A transaction may touch row '{action.Entity.RowKey}' only once.", nameof(actions));
            }
        }
    }

    private static TableWriteResult Written(TableEntity entity, ETag? etag)
    {
        entity.ETag = etag ?? default;
        return new TableWriteResult(TableWriteStatus.Written, entity.ETag);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
