using System.Text;

namespace DarkShip.Serving.Features;

/// <summary>One CSV record: where it starts in the file, and its fields (or why it could not be read).</summary>
public readonly record struct CsvRecord(long Line, string[] Fields, string? Error);

/// <summary>
/// Streams the records of an RFC 4180 CSV file: commas, double-quoted fields with <c>""</c> escapes and
/// line breaks inside quotes, CRLF or LF. Blank lines are skipped. One record is in memory at a time.
/// A quote that is never closed (within <see cref="MaxRecordLines"/> lines) makes that one line a bad
/// record; the lines after it are read again as records of their own, so a stray quote costs one row,
/// never the rest of the file.
/// </summary>
public static class CsvRecords
{
    /// <summary>Most lines one quoted field may span before its opening quote is taken to be stray.</summary>
    public const int MaxRecordLines = 1000;

    public static IEnumerable<CsvRecord> Read(TextReader reader)
    {
        var lines = new LineSource(reader);
        var fields = new List<string>();
        var field = new StringBuilder();
        while (lines.Next() is { } first)
        {
            if (first.Text.Length == 0)
            {
                continue;
            }

            var consumed = new List<(long Line, string Text)> { first };
            var text = first.Text;
            fields.Clear();
            field.Clear();
            var quoted = false;
            var afterQuote = false;
            string? error = null;
            for (var i = 0; ; i++)
            {
                if (i == text.Length)
                {
                    if (quoted)
                    {
                        // A quoted field runs on to the next line, within bounds.
                        if (consumed.Count >= MaxRecordLines || lines.Next() is not { } next)
                        {
                            error = "a quoted field is never closed";
                            lines.PushBack(consumed.Skip(1)); // read those lines again, on their own
                            break;
                        }

                        consumed.Add(next);
                        field.Append('\n');
                        text = next.Text;
                        i = -1;
                        continue;
                    }

                    fields.Add(field.ToString());
                    break;
                }

                var c = text[i];
                if (quoted)
                {
                    if (c != '"')
                    {
                        field.Append(c);
                    }
                    else if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                        afterQuote = true;
                    }
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    afterQuote = false;
                }
                else if (c == '"' && field.Length == 0 && !afterQuote)
                {
                    quoted = true;
                }
                else if (afterQuote)
                {
                    error = $"text after a closing quote in field {fields.Count + 1}";
                    break;
                }
                else
                {
                    field.Append(c);
                }
            }

            yield return new CsvRecord(first.Line, error is null ? [.. fields] : [], error);
        }
    }

    /// <summary>Numbered lines, with lines given back read again first.</summary>
    private sealed class LineSource(TextReader reader)
    {
        private readonly Stack<(long Line, string Text)> pushedBack = new();
        private long line;

        public (long Line, string Text)? Next()
        {
            if (pushedBack.TryPop(out var again))
            {
                return again;
            }

            return reader.ReadLine() is { } text ? (++line, text) : null;
        }

        public void PushBack(IEnumerable<(long Line, string Text)> lines)
        {
            foreach (var l in lines.Reverse())
            {
                pushedBack.Push(l);
            }
        }
    }
}
