using System.Text.RegularExpressions;

namespace DarkShip.Storage.Tables;

/// <summary>
/// Table Storage's rules for names and keys, checked before anything is sent (the SDK sends any
/// key it is given), so that no caller-supplied key can address another entity or table (a <c>/</c>,
/// <c>#</c> or <c>?</c> in a key would change the URL) and no value is refused by the service.
/// </summary>
public static partial class TableKeys
{
    /// <summary>Largest key: 1 KiB, counted in UTF-16 as the service stores it.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is a valid PartitionKey or RowKey.</summary>
    public static void Validate(string key, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length * 2 > MaxKeyBytes)
        {
            throw new ArgumentException($"A key may be at most {MaxKeyBytes} bytes (512 characters); this one has {key.Length} characters.", parameterName);
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?')
            {
                throw new ArgumentException($"A key may not contain '/', '\\', '#' or '?'; this one contains '{c}'.", parameterName);
            }

            if (char.IsControl(c))
            {
                throw new ArgumentException($"A key may not contain control characters; this one contains U+{(int)c:X4}.", parameterName);
            }
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="table"/> is a valid table name.</summary>
    public static void ValidateTableName(string table, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(table, parameterName);
        if (!TableName().IsMatch(table) || table.Equals("tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{table}' is not a table name: 3 to 63 letters and digits, starting with a letter, and not 'tables'.", parameterName);
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();
}
