using System.Globalization;
using System.Text.Json;

namespace DarkShip.Functions.Cli;

/// <summary>One input row, or the reason it could not be read.</summary>
internal readonly record struct InputRow(long Line, float[]? Values, string? Error);

/// <summary>
/// Streams rows from a CSV (empty cell = missing; an optional header row naming features) or a
/// JSON-lines file (each line an array of numbers, <c>null</c> = missing). One row is in memory at a time.
/// </summary>
internal static class RowFileReader
{
    public static IEnumerable<InputRow> Read(TextReader reader, bool csv, int featureCount, IReadOnlyList<string> featureNames)
    {
        long line = 0;
        int[]? columnToFeature = null;
        var first = true;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            if (csv && first && LooksLikeHeader(text))
            {
                first = false;
                columnToFeature = MapHeader(text, featureCount, featureNames, line);
                continue;
            }

            first = false;
            yield return csv ? ParseCsv(line, text, featureCount, columnToFeature) : ParseJson(line, text, featureCount);
        }
    }

    private static bool LooksLikeHeader(string text) =>
        text.Split(',').Any(c => c.Trim().Length > 0 && !float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));

    /// <summary>
    /// Maps header columns to feature indices by name: the model's names, or XGBoost's defaults
    /// (f0, f1, …) for a model saved without names. An unnamed model with a header of other names
    /// takes its columns in order.
    /// </summary>
    /// <exception cref="InvalidDataException">The header names columns the model does not have, or lacks some it needs.</exception>
    private static int[]? MapHeader(string text, int featureCount, IReadOnlyList<string> featureNames, long line)
    {
        var columns = text.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        var named = featureNames.Count > 0;
        var names = named ? featureNames : [.. Enumerable.Range(0, featureCount).Select(i => $"f{i}")];
        var byName = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        if (!named && !columns.All(byName.ContainsKey))
        {
            return null;
        }

        var map = new int[columns.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            if (!byName.TryGetValue(columns[c], out map[c]))
            {
                throw new InvalidDataException($"line {line}: the header names '{columns[c]}', which is not one of the model's features");
            }
        }

        var absent = names.Except(columns, StringComparer.Ordinal).ToList();
        if (absent.Count > 0)
        {
            throw new InvalidDataException($"line {line}: the header lacks the model's features {string.Join(", ", absent.Take(5))}{(absent.Count > 5 ? ", …" : "")}");
        }

        return map;
    }

    private static InputRow ParseCsv(long line, string text, int featureCount, int[]? columnToFeature)
    {
        var cells = text.Split(',');
        if (cells.Length != featureCount)
        {
            return new InputRow(line, null, $"expected {featureCount} values, found {cells.Length}");
        }

        var values = new float[featureCount];
        for (var c = 0; c < cells.Length; c++)
        {
            var cell = cells[c].Trim();
            var target = columnToFeature?[c] ?? c;
            if (cell.Length == 0 || cell.Equals("nan", StringComparison.OrdinalIgnoreCase))
            {
                values[target] = float.NaN;
            }
            else if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                values[target] = v;
            }
            else
            {
                return new InputRow(line, null, $"column {c + 1} ('{Shorten(cell)}') is not a number");
            }
        }

        return new InputRow(line, values, null);
    }

    private static InputRow ParseJson(long line, string text, int featureCount)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return new InputRow(line, null, $"expected a JSON array of {featureCount} numbers, found {root.ValueKind}");
            }

            if (root.GetArrayLength() != featureCount)
            {
                return new InputRow(line, null, $"expected {featureCount} values, found {root.GetArrayLength()}");
            }

            var values = new float[featureCount];
            var i = 0;
            foreach (var cell in root.EnumerateArray())
            {
                switch (cell.ValueKind)
                {
                    case JsonValueKind.Null:
                        values[i] = float.NaN;
                        break;
                    case JsonValueKind.Number:
                        values[i] = (float)cell.GetDouble();
                        break;
                    default:
                        return new InputRow(line, null, $"value {i + 1} is {cell.ValueKind}, not a number or null");
                }

                i++;
            }

            return new InputRow(line, values, null);
        }
        catch (JsonException e)
        {
            return new InputRow(line, null, $"not valid JSON: {e.Message}");
        }
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
