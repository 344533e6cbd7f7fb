// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using Azure;

namespace HandWritten;

/// <summary>
/// One row of a table: its keys, its properties and, once read or written, its ETag and timestamp.
/// Property values are <see cref="string"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/>,
/// <see cref="bool"/>, <see cref="DateTimeOffset"/>, <see cref="Guid"/> or <see cref="byte"/>[] — the
/// types Table Storage stores; a <see cref="DateTime"/> or <see cref="float"/> is widened on write.
/// </summary>
public sealed class TableEntity
{
    /// <summary>A new entity with the given keys.</summary>
    public TableEntity(string partitionKey, string rowKey)
    {
        TableKeys.Validate(partitionKey, nameof(partitionKey));
        TableKeys.Validate(rowKey, nameof(rowKey));
        PartitionKey = partitionKey;
        RowKey = rowKey;
    }

    public string PartitionKey { get; }

    public string RowKey { get; }

    /// <summary>The version read or written last; <see cref="ETag.All"/> when unknown.</summary>
    public ETag ETag { get; set; } = ETag.All;

    /// <summary>When the service last wrote the entity, if it was read.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>The properties other than the keys and the timestamp.</summary>
    public Dictionary<string, object?> Properties { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets or sets a property; a missing one reads as <see langword="null"/>.</summary>
    public object? this[string name]
    {
        get => Properties.GetValueOrDefault(name);
        set => Properties[name] = value;
    }

    /// <summary>The property as <typeparamref name="T"/>, or <see langword="default"/> when missing or of another type.</summary>
    public T? Get<T>(string name) => Properties.TryGetValue(name, out var value) && value is T typed ? typed : default;
}
