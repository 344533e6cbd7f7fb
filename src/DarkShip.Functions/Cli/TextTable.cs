namespace DarkShip.Functions.Cli;

/// <summary>The operator verbs' tables: left-aligned columns two spaces apart, the header first.</summary>
internal static class TextTable
{
    public static async Task WriteAsync(TextWriter output, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
        {
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
