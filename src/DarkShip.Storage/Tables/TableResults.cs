using Azure;

namespace DarkShip.Storage.Tables;

/// <summary>How a conditional write ended. Conflicts are outcomes, not exceptions: callers decide.</summary>
public enum TableWriteStatus
{
    /// <summary>The write happened; the result carries the new ETag.</summary>
    Written,

    /// <summary>An insert found the entity already there (409).</summary>
    AlreadyExists,

    /// <summary>The entity changed since the ETag given in <c>If-Match</c> (412): someone else wrote first.</summary>
    PreconditionFailed,

    /// <summary>An update or delete found no entity, or the table does not exist (404).</summary>
    NotFound,
}

/// <summary>The outcome of one write.</summary>
public readonly record struct TableWriteResult(TableWriteStatus Status, ETag ETag)
{
    public bool Succeeded => Status == TableWriteStatus.Written;
}

/// <summary>
/// The outcome of an entity-group transaction: all actions applied, or none, with the index,
/// status and error code of the action that failed.
/// </summary>
public sealed record TableTransactionResult(bool Succeeded, int? FailedActionIndex, int FailedStatus, string? ErrorCode, string? ErrorMessage)
{
    public static readonly TableTransactionResult Applied = new(true, null, 0, null, null);
}
