// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using Azure;

namespace HandWritten;

/// <summary>How a conditional write ended. Conflicts are outcomes, not exceptions: callers decide.</summary>
public enum TableWriteStatus
{
    /// <summary>The write happened; the result carries the new ETag.</summary>
    Written,

    /// <summary>An insert found the entity already there (409).</summary>
    AlreadyExists,

    /// <summary>The entity changed since the ETag given in <c>If-Match</c> (412): someone else wrote first.</summary>
    PreconditionFailed,

    /// <summary>An update or delete found no entity (404).</summary>
    NotFound,
}

/// <summary>The outcome of one write.</summary>
public readonly record struct TableWriteResult(TableWriteStatus Status, ETag ETag)
{
    public bool Succeeded => Status == TableWriteStatus.Written;
}

/// <summary>How properties are written over an existing entity.</summary>
public enum TableUpdateMode
{
    /// <summary>Properties given replace those of the same name; others stay (HTTP MERGE).</summary>
    Merge,

    /// <summary>The entity becomes exactly what is given (HTTP PUT).</summary>
    Replace,
}

/// <summary>One page of a query, and the token that resumes after it (<see langword="null"/> on the last page).</summary>
public sealed record TablePage(IReadOnlyList<TableEntity> Entities, string? ContinuationToken);

/// <summary>What one action of an entity-group transaction does.</summary>
public enum TableActionKind
{
    Add,
    UpsertMerge,
    UpsertReplace,
    UpdateMerge,
    UpdateReplace,
    Delete,
}

/// <summary>One action of an entity-group transaction; updates and deletes are conditional on <see cref="IfMatch"/>.</summary>
public sealed record TableTransactionAction(TableActionKind Kind, TableEntity Entity, ETag IfMatch = default)
{
    public static TableTransactionAction Add(TableEntity entity) => new(TableActionKind.Add, entity);

    public static TableTransactionAction Upsert(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge) =>
        new(mode == TableUpdateMode.Merge ? TableActionKind.UpsertMerge : TableActionKind.UpsertReplace, entity);

    public static TableTransactionAction Update(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge) =>
        new(mode == TableUpdateMode.Merge ? TableActionKind.UpdateMerge : TableActionKind.UpdateReplace, entity, ifMatch);

    public static TableTransactionAction Delete(TableEntity entity, ETag ifMatch = default) => new(TableActionKind.Delete, entity, ifMatch);
}

/// <summary>
/// The outcome of an entity-group transaction: all actions applied (with their new ETags), or
/// none, with the index, status and error code of the action that failed.
/// </summary>
public sealed record TableTransactionResult(bool Succeeded, IReadOnlyList<ETag> ETags, int? FailedActionIndex, int FailedStatus, string? ErrorCode, string? ErrorMessage);
