using System.Globalization;

namespace DarkShip.Serving.Features;

/// <summary>What an ingest was asked to do.</summary>
/// <param name="Group">The feature group.</param>
/// <param name="KeyColumn">The column holding entity keys (default: the first).</param>
/// <param name="TimestampColumn">The column holding each snapshot's instant (ISO 8601 or Unix seconds); without it every row is stamped now.</param>
/// <param name="SkipBadRows">Write the good rows when some are bad, instead of writing nothing.</param>
/// <param name="Parallelism">Entities written at once.</param>
public sealed record IngestRequest(string Group, string? KeyColumn, string? TimestampColumn, bool SkipBadRows, int Parallelism = 8);

/// <summary>A row that cannot be ingested, by its line in the file.</summary>
public sealed record BadRow(long Line, string Reason);

/// <summary>An entity whose snapshots could not be written (nothing of it was).</summary>
public sealed record EntityFailure(string EntityKey, long FirstLine, string Error);

/// <summary>How far the writing pass is: rows written or failed so far, of the good rows.</summary>
public readonly record struct IngestProgress(long Done, long Total);

/// <summary>What an ingest came to. Outcomes are values, not exceptions.</summary>
public abstract record IngestOutcome
{
    private IngestOutcome()
    {
    }

    /// <summary>The file cannot be ingested at all (group name, header, columns); nothing was written.</summary>
    public sealed record Refused(string Reason) : IngestOutcome;

    /// <summary>Some rows are bad and bad rows were not to be skipped; nothing was written.</summary>
    public sealed record BadRows(IReadOnlyList<BadRow> Rows, long BadCount, long GoodCount) : IngestOutcome;

    /// <summary>The good rows were written, entity by entity, except <paramref name="Failures"/>.</summary>
    public sealed record Written(FeatureGroupSchema Schema, long Snapshots, int Entities, IReadOnlyList<BadRow> SkippedRows, long SkippedCount, IReadOnlyList<EntityFailure> Failures, TimeSpan Elapsed) : IngestOutcome;
}

/// <summary>
/// Feature ingestion: a CSV of snapshots into a group. Two passes over the file, so memory stays flat
/// for any size: the first checks every row (reporting bad ones by line) and infers each column's
/// type; the second writes, one entity's rows per storage transaction, many entities in parallel.
/// Nothing is written when a row is bad unless bad rows are to be skipped; an entity whose write
/// fails is reported and leaves nothing half-written, and ingesting the same file again is harmless.
/// </summary>
public sealed class FeatureIngestion(IFeatureWriter writer, TimeProvider time)
{
    /// <summary>Bad rows and failed entities kept for the report (the counts are complete).</summary>
    public const int MaxReported = 20;

    private const int ChunkRows = 20_000;

    // Table Storage's limits, checked while scanning so that "nothing is written when a row is bad" holds
    // for values the service would refuse too: 252 properties an entity (AsOf is one), 64 KiB a string
    // property (32,767 UTF-16 characters), 1 MiB an entity (sized as the service sizes it).
    private const int MaxValueColumns = 251;
    private const int MaxStringChars = 32_767;
    private const long MaxEntityBytes = 1024 * 1024;

    /// <summary>Ingests the CSV that <paramref name="open"/> reads (called once per pass, each time from the start).</summary>
    public async Task<IngestOutcome> IngestAsync(IngestRequest request, Func<TextReader> open, IProgress<IngestProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(open);
        if (!FeatureGroups.IsValidName(request.Group))
        {
            return new IngestOutcome.Refused($"'{request.Group}' is not a group name (a letter, then up to 39 letters or digits).");
        }

        var now = time.GetUtcNow();
        Layout layout;
        Scan scan;
        try
        {
            layout = ReadHeader(request, open);
            scan = ScanFile(layout, open, now);
        }
        catch (InvalidDataException e)
        {
            return new IngestOutcome.Refused(e.Message);
        }

        if (scan.BadCount > 0 && !request.SkipBadRows)
        {
            return new IngestOutcome.BadRows(scan.BadRows, scan.BadCount, scan.GoodCount);
        }

        var schema = new FeatureGroupSchema(request.Group, layout.ValueColumns.ToDictionary(c => layout.Names[c], c => scan.Types[c], StringComparer.Ordinal));
        await writer.PrepareGroupAsync(schema, cancellationToken).ConfigureAwait(false);

        var started = time.GetTimestamp();
        var failures = new List<EntityFailure>();
        var failed = 0;
        long written = 0, done = 0;
        var entities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in ReadSnapshots(layout, open, scan.Types, now).Chunk(ChunkRows))
        {
            var byEntity = chunk.GroupBy(s => s.EntityKey, StringComparer.Ordinal).ToList();
            await Parallel.ForEachAsync(byEntity, new ParallelOptions { MaxDegreeOfParallelism = request.Parallelism, CancellationToken = cancellationToken }, async (entity, ct) =>
            {
                var rows = entity.ToList();
                EntityWriteResult result;
                try
                {
                    result = await writer.WriteEntityAsync(request.Group, entity.Key, rows, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    result = new EntityWriteResult(entity.Key, 0, e.Message);
                }

                lock (failures)
                {
                    entities.Add(entity.Key);
                    if (result.Succeeded)
                    {
                        written += rows.Count;
                    }
                    else
                    {
                        failed++;
                        if (failures.Count < MaxReported)
                        {
                            failures.Add(new EntityFailure(result.EntityKey, rows.Min(r => r.Line), result.Error ?? "not written"));
                        }
                    }

                    done += rows.Count;
                    progress?.Report(new IngestProgress(done, scan.GoodCount));
                }
            }).ConfigureAwait(false);
        }

        return new IngestOutcome.Written(schema, written, entities.Count - failed, scan.BadRows, scan.BadCount, failures, time.GetElapsedTime(started));
    }

    /// <summary>Which column is the key, which the timestamp, and which hold values.</summary>
    private sealed record Layout(string[] Names, int KeyColumn, int TimestampColumn, int[] ValueColumns);

    private sealed record Scan(FeatureType[] Types, long GoodCount, long BadCount, List<BadRow> BadRows);

    private static Layout ReadHeader(IngestRequest request, Func<TextReader> open)
    {
        using var reader = open();
        var header = CsvRecords.Read(reader).FirstOrDefault();
        if (header.Fields is null || header.Error is not null)
        {
            throw new InvalidDataException(header.Fields is null ? "the file is empty; it needs a header row" : $"line {header.Line}: {header.Error}");
        }

        var names = header.Fields.Select(f => f.Trim()).ToArray();
        int Find(string? name, string what)
        {
            var i = Array.IndexOf(names, name);
            return i >= 0 ? i : throw new InvalidDataException($"there is no {what} column '{name}' (columns: {string.Join(", ", names)})");
        }

        var key = request.KeyColumn is null ? 0 : Find(request.KeyColumn, "key");
        var ts = request.TimestampColumn is null ? -1 : Find(request.TimestampColumn, "timestamp");
        var values = Enumerable.Range(0, names.Length).Where(i => i != key && i != ts).ToArray();
        foreach (var i in values)
        {
            if (!IsPropertyName(names[i]))
            {
                throw new InvalidDataException($"column '{names[i]}' cannot be a property name (a letter or '_', then letters, digits or '_', at most 255; not PartitionKey, RowKey, Timestamp or AsOf)");
            }
        }

        if (values.Length == 0)
        {
            throw new InvalidDataException("the file has no value columns besides the key and the timestamp");
        }

        if (values.Length > MaxValueColumns)
        {
            throw new InvalidDataException($"the file has {values.Length} value columns; Table Storage holds at most {MaxValueColumns} per entity (with AsOf)");
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new InvalidDataException("two columns have the same name");
        }

        return new Layout(names, key, ts, values);
    }

    private static Scan ScanFile(Layout layout, Func<TextReader> open, DateTimeOffset now)
    {
        var numeric = Enumerable.Repeat(true, layout.Names.Length).ToArray();
        var boolean = Enumerable.Repeat(true, layout.Names.Length).ToArray();
        var seen = new bool[layout.Names.Length];
        long good = 0, bad = 0;
        var badRows = new List<BadRow>();
        using var reader = open();
        foreach (var record in CsvRecords.Read(reader).Skip(1))
        {
            if (Check(record, layout, now, out _) is { } reason)
            {
                bad++;
                if (badRows.Count < MaxReported)
                {
                    badRows.Add(new BadRow(record.Line, reason));
                }

                continue;
            }

            good++;
            foreach (var c in layout.ValueColumns)
            {
                var cell = record.Fields[c];
                if (cell.Length == 0)
                {
                    continue;
                }

                seen[c] = true;
                numeric[c] &= double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);
                boolean[c] &= cell is "true" or "false" or "True" or "False" or "TRUE" or "FALSE";
            }
        }

        var types = new FeatureType[layout.Names.Length];
        for (var c = 0; c < types.Length; c++)
        {
            types[c] = !seen[c] || numeric[c] ? FeatureType.Number : boolean[c] ? FeatureType.Boolean : FeatureType.Text;
        }

        return new Scan(types, good, bad, badRows);
    }

    /// <summary>Why a row cannot be ingested, or <see langword="null"/> when it can.</summary>
    private static string? Check(CsvRecord record, Layout layout, DateTimeOffset now, out DateTimeOffset asOf)
    {
        asOf = now;
        if (record.Error is not null)
        {
            return record.Error;
        }

        if (record.Fields.Length != layout.Names.Length)
        {
            return $"{record.Fields.Length} fields; the header has {layout.Names.Length}";
        }

        if (FeatureGroups.ValidateEntityKey(record.Fields[layout.KeyColumn]) is { } keyError)
        {
            return $"{layout.Names[layout.KeyColumn]}: {keyError}";
        }

        if (layout.TimestampColumn >= 0 && !TryParseInstant(record.Fields[layout.TimestampColumn], out asOf))
        {
            return $"{layout.Names[layout.TimestampColumn]}: '{record.Fields[layout.TimestampColumn]}' is not an ISO 8601 instant or Unix seconds";
        }

        // The service's own size formula, every value counted as a string (its largest form).
        var key = record.Fields[layout.KeyColumn];
        long bytes = 4 + (key.Length * 2) + (20 * 2) + (8 + ("AsOf".Length * 2) + 8);
        foreach (var c in layout.ValueColumns)
        {
            var cell = record.Fields[c];
            if (cell.Length > MaxStringChars)
            {
                return $"{layout.Names[c]}: {cell.Length:N0} characters; Table Storage holds at most {MaxStringChars:N0} in a value";
            }

            if (cell.Length > 0 && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !double.IsFinite(number))
            {
                return $"{layout.Names[c]}: '{Shorten(cell)}' is not a finite number (leave the cell empty for a missing value)";
            }

            bytes += 8 + (layout.Names[c].Length * 2) + 4 + (cell.Length * 2);
        }

        return bytes > MaxEntityBytes ? $"the row comes to {bytes:N0} bytes as a table entity; Table Storage holds at most {MaxEntityBytes:N0}" : null;
    }

    private static IEnumerable<FeatureSnapshot> ReadSnapshots(Layout layout, Func<TextReader> open, FeatureType[] types, DateTimeOffset now)
    {
        using var reader = open();
        foreach (var record in CsvRecords.Read(reader).Skip(1))
        {
            if (Check(record, layout, now, out var asOf) is not null)
            {
                continue; // reported by the scan
            }

            var values = new Dictionary<string, object>(layout.ValueColumns.Length, StringComparer.Ordinal);
            foreach (var c in layout.ValueColumns)
            {
                var cell = record.Fields[c];
                if (cell.Length == 0)
                {
                    continue;
                }

                values[layout.Names[c]] = types[c] switch
                {
                    FeatureType.Number => double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture),
                    FeatureType.Boolean => bool.Parse(cell),
                    _ => cell,
                };
            }

            yield return new FeatureSnapshot(record.Fields[layout.KeyColumn], asOf, values, record.Line);
        }
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";

    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant)
            && instant.Year is >= 1900 and <= 9000)
        {
            return true;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0 and < 253402300799)
        {
            instant = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
            return true;
        }

        return false;
    }

    private static bool IsPropertyName(string name) =>
        name.Length is > 0 and <= 255
        && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        && name is not ("PartitionKey" or "RowKey" or "Timestamp" or "AsOf");
}
