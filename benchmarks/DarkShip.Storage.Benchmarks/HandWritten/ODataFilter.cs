// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using System.Globalization;

namespace HandWritten;

/// <summary>
/// Builds <c>$filter</c> expressions from interpolated strings, escaping every argument as an
/// OData literal: <c>ODataFilter.Create($"PartitionKey eq {pk} and RowKey ge {from}")</c>. The
/// format text is the caller's code; values can never widen the filter.
/// </summary>
public static class ODataFilter
{
    /// <summary>Formats <paramref name="filter"/> with each argument as a typed OData literal.</summary>
    /// <exception cref="ArgumentException">An argument has a type Table Storage cannot compare.</exception>
    public static string Create(FormattableString filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var arguments = filter.GetArguments().Select(Literal).ToArray<object?>();
        return string.Format(CultureInfo.InvariantCulture, filter.Format, arguments);
    }

    /// <summary>The OData literal of one value.</summary>
    public static string Literal(object? value) => value switch
    {
        null => throw new ArgumentException("Table Storage cannot compare with null."),
        string s => TableKeys.Literal(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        double d when double.IsFinite(d) => d.ToString("R", CultureInfo.InvariantCulture) is var r && (r.Contains('.') || r.Contains('E')) ? r : r + ".0",
        float f when float.IsFinite(f) => Literal((double)f),
        DateTimeOffset t => $"datetime'{t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)}'",
        Guid g => $"guid'{g:D}'",
        byte[] bytes => $"X'{Convert.ToHexString(bytes)}'",
        _ => throw new ArgumentException($"Table Storage cannot compare a {value.GetType().Name} ({value})."),
    };
}
