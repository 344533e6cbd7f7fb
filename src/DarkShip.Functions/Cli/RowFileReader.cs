using System.Globalization;
using System.Text.Json;
using DarkShip.Scoring;

namespace DarkShip.Functions.Cli;

/// <summary>One input row, or the reason it could not be read.</summary>
internal readonly record struct InputRow(long Line, float[]? Values, string? Error);

/// <summary>
/// Streams rows from a CSV (empty cell = missing; an optional header row naming features) or a
/// JSON-lines file: each line an array in the model's input order or an object keyed by input name
/// (a key left out is missing), <c>null</c> = missing, <c>true</c>/<c>false</c> for booleans, a category's
/// label as text (a label the model does not know is missing, as when served). One row is in memory at a time.
/// </summary>
internal static class RowFileReader
{
    /// <summary>Longest line read, in characters: room for every feature written out at length, and never less than 1 MiB.</summary>
    public static int MaxLineChars(int featureCount) => (int)Math.Clamp(featureCount * 64L, 1 << 20, 1 << 28);

    public static IEnumerable<InputRow> Read(TextReader reader, bool csv, IReadOnlyList<ModelInput> inputs)
    {
        var featureCount = inputs.Count;
        var featureNames = inputs.Select(i => i.Name).ToList();
        var byName = inputs.Select((input, i) => (input.Name, i)).GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        long line = 0;
        int[]? columnToFeature = null;
        var first = true;
        var lines = new BoundedLineReader(reader, MaxLineChars(featureCount));
        while (lines.ReadLine(out var text) is var read && read != BoundedLineReader.Result.End)
        {
            line++;
            if (read == BoundedLineReader.Result.TooLong)
            {
                first = false;
                yield return new InputRow(line, null, $"the line is longer than {lines.MaxChars} characters; skipped");
                continue;
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            if (csv && first && LooksLikeHeader(text!))
            {
                first = false;
                columnToFeature = MapHeader(text, featureCount, featureNames, line);
                continue;
            }

            first = false;
            yield return csv ? ParseCsv(line, text!, inputs, columnToFeature) : ParseJson(line, text!, inputs, byName);
        }
    }

    /// <summary>
    /// A header names columns: every non-empty cell is a name, none a number. A first data row with one
    /// bad cell among numbers is a bad row (reported, written as null), never a header that swallows it.
    /// </summary>
    private static bool LooksLikeHeader(string text)
    {
        var cells = text.Split(',').Select(c => c.Trim()).Where(c => c.Length > 0).ToList();
        return cells.Count > 0 && cells.All(c => !double.TryParse(c.Trim('"'), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
    }

    /// <summary>
    /// Maps header columns to feature indices by name: the model's names, or XGBoost's defaults
    /// (f0, f1, …) for a model saved without names. An unnamed model with a header of other names
    /// takes its columns in order.
    /// </summary>
    /// <exception cref="InvalidDataException">The header names columns the model does not have, or lacks some it needs.</exception>
    private static int[]? MapHeader(string text, int featureCount, IReadOnlyList<string> featureNames, long line)
    {
        var columns = text.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        var named = featureNames.Where((n, i) => n != $"f{i}").Any(); // a model saved without names is read as f0, f1, …
        var names = featureNames;
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidDataException($"line {line}: the model names feature '{twice.Key}' more than once, so a header cannot say which column is which; remove the header to take the columns in the model's order");
        }

        if (columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            throw new InvalidDataException($"line {line}: the header names '{repeated.Key}' more than once");
        }

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

    private static InputRow ParseCsv(long line, string text, IReadOnlyList<ModelInput> inputs, int[]? columnToFeature)
    {
        var featureCount = inputs.Count;
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
            else if (inputs[target].Kind == InputKind.Category && !float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                values[target] = Code(inputs[target], cell.Trim('"'));
            }
            else if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                if (!float.IsFinite(v))
                {
                    return new InputRow(line, null, $"column {c + 1} ('{Shorten(cell)}') is outside the range of a 32-bit float");
                }

                values[target] = v;
            }
            else
            {
                return new InputRow(line, null, $"column {c + 1} ('{Shorten(cell)}') is not a number");
            }
        }

        return new InputRow(line, values, null);
    }

    private static InputRow ParseJson(long line, string text, IReadOnlyList<ModelInput> inputs, Dictionary<string, int> byName)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var values = new float[inputs.Count];
            switch (root.ValueKind)
            {
                case JsonValueKind.Array:
                    if (root.GetArrayLength() != inputs.Count)
                    {
                        return new InputRow(line, null, $"expected {inputs.Count} values, found {root.GetArrayLength()}");
                    }

                    var i = 0;
                    foreach (var cell in root.EnumerateArray())
                    {
                        if (Value(inputs[i], cell, out values[i]) is { } error)
                        {
                            return new InputRow(line, null, $"value {i + 1} ('{inputs[i].Name}') {error}");
                        }

                        i++;
                    }

                    return new InputRow(line, values, null);
                case JsonValueKind.Object:
                    Array.Fill(values, float.NaN); // an input left out is missing
                    foreach (var property in root.EnumerateObject())
                    {
                        if (!byName.TryGetValue(property.Name, out var column))
                        {
                            return new InputRow(line, null, $"'{Shorten(property.Name)}' is not one of the model's inputs ({string.Join(", ", inputs.Take(8).Select(x => x.Name))}{(inputs.Count > 8 ? ", …" : "")})");
                        }

                        if (Value(inputs[column], property.Value, out values[column]) is { } error)
                        {
                            return new InputRow(line, null, $"'{property.Name}' {error}");
                        }
                    }

                    return new InputRow(line, values, null);
                default:
                    return new InputRow(line, null, $"expected a JSON array of {inputs.Count} values or an object keyed by input name, found {root.ValueKind}");
            }
        }
        catch (JsonException e)
        {
            return new InputRow(line, null, $"not valid JSON: {e.Message}");
        }
    }

    /// <summary>One JSON value as the input's float, or why it cannot be.</summary>
    private static string? Value(ModelInput input, JsonElement cell, out float value)
    {
        value = float.NaN;
        switch (cell.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Number:
                if (!cell.TryGetDouble(out var d) || !float.IsFinite((float)d))
                {
                    return $"({Shorten(cell.GetRawText())}) is outside the range of a 32-bit float";
                }

                value = (float)d;
                return null;
            case JsonValueKind.True or JsonValueKind.False when input.Kind != InputKind.Category:
                value = cell.ValueKind == JsonValueKind.True ? 1f : 0f;
                return null;
            case JsonValueKind.String when input.Kind == InputKind.Category:
                value = Code(input, cell.GetString()!);
                return null;
            default:
                return input.Kind switch
                {
                    InputKind.Category => $"is {cell.ValueKind}: a category is its label (text), its code, or null",
                    InputKind.Boolean => $"is {cell.ValueKind}: a boolean is true, false, 1, 0 or null",
                    _ => $"is {cell.ValueKind}, not a number or null",
                };
        }
    }

    /// <summary>A category label's code; a label the model does not know is missing, as it is when served.</summary>
    private static float Code(ModelInput input, string label)
    {
        var index = input.Categories?.ToList().IndexOf(label) ?? -1;
        return index >= 0 ? index : float.NaN;
    }


    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";
}

/// <summary>Reads lines of at most <see cref="MaxChars"/> characters: a longer one is skipped whole, never held in memory.</summary>
internal sealed class BoundedLineReader(TextReader reader, int maxChars)
{
    private readonly char[] buffer = new char[64 * 1024];
    private readonly System.Text.StringBuilder line = new();
    private int position;
    private int length;

    public enum Result
    {
        Line,
        TooLong,
        End,
    }

    public int MaxChars { get; } = maxChars;

    /// <summary>The next line (without its end), or whether it was too long, or the end of the input.</summary>
    public Result ReadLine(out string? text)
    {
        line.Clear();
        var tooLong = false;
        var any = false;
        while (true)
        {
            if (position == length)
            {
                length = reader.Read(buffer, 0, buffer.Length);
                position = 0;
                if (length == 0)
                {
                    text = tooLong ? null : line.ToString();
                    return tooLong ? Result.TooLong : any ? Result.Line : Result.End;
                }
            }

            any = true;
            var end = Array.IndexOf(buffer, '\n', position, length - position);
            var stop = end < 0 ? length : end;
            if (!tooLong)
            {
                line.Append(buffer, position, stop - position);
                if (line.Length > MaxChars)
                {
                    tooLong = true;
                    line.Clear();
                }
            }

            position = end < 0 ? length : end + 1;
            if (end >= 0)
            {
                if (tooLong)
                {
                    text = null;
                    return Result.TooLong;
                }

                if (line.Length > 0 && line[^1] == '\r')
                {
                    line.Length--;
                }

                text = line.ToString();
                return Result.Line;
            }
        }
    }
}
