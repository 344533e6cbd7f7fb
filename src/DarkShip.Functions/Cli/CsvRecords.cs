using System.Text;

namespace DarkShip.Functions.Cli;

/// <summary>One CSV record: where it starts in the file, and its fields (or why it could not be read).</summary>
internal readonly record struct CsvRecord(long Line, string[] Fields, string? Error);

/// <summary>
/// Streams the records of an RFC 4180 CSV file: commas, double-quoted fields with <c>""</c> escapes and
/// line breaks inside quotes, CRLF or LF. Blank lines are skipped. One record is in memory at a time.
/// </summary>
internal static class CsvRecords
{
    public static IEnumerable<CsvRecord> Read(TextReader reader)
    {
        long line = 0;
        var fields = new List<string>();
        var field = new StringBuilder();
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            var start = line;
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
                        // A quoted field runs on to the next line.
                        if (reader.ReadLine() is not { } next)
                        {
                            error = "a quoted field is never closed";
                            break;
                        }

                        line++;
                        field.Append('\n');
                        text = next;
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

            yield return new CsvRecord(start, [.. fields], error);
        }
    }
}
