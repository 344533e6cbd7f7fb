using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DarkShip.Serving.Features;

namespace DarkShip.Functions.Cli;

/// <summary>What <c>features ingest</c> was asked to do.</summary>
/// <param name="Group">The feature group.</param>
/// <param name="File">The CSV file: a header row, then one snapshot per row.</param>
/// <param name="KeyColumn">The column holding entity keys (default: the first).</param>
/// <param name="TimestampColumn">The column holding each snapshot's instant (ISO 8601 or Unix seconds); without it every row is stamped now.</param>
/// <param name="SkipBadRows">Write the good rows when some are bad, instead of writing nothing.</param>
/// <param name="Parallelism">Entities written at once.</param>
internal sealed record IngestOptions(string Group, FileInfo File, string? KeyColumn, string? TimestampColumn, bool SkipBadRows, int Parallelism = 8);

/// <summary>
/// <c>darkship features ingest</c>: loads a CSV of feature snapshots into a group. Two passes over the
/// file, so memory stays flat for any size: the first checks every row (reporting bad ones by line)
/// and infers each column's type; the second writes, one entity's rows per storage transaction, many
/// entities in parallel, with a progress bar. Nothing is written when a row is bad unless
/// <c>--skip-bad-rows</c> says so; an entity whose write fails is reported and leaves nothing half-written,
/// and running the same file again is harmless.
/// </summary>
internal static class FeaturesCommand
{
    /// <summary>Exit code: the input is bad; nothing was written.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code: some entities could not be written.</summary>
    public const int WriteFailed = 1;

    private const int ChunkRows = 20_000;
    private const int MaxReportedErrors = 20;

    // Table Storage's limits, checked while scanning so that "nothing is written when a row is bad" holds
    // for values the service would refuse too: 252 properties an entity (AsOf is one), 64 KiB a string
    // property (32,767 UTF-16 characters), 1 MiB an entity (sized as the service sizes it).
    private const int MaxValueColumns = 251;
    private const int MaxStringChars = 32_767;
    private const long MaxEntityBytes = 1024 * 1024;

    public static Command Create()
    {
        var group = new Option<string>("--group") { Description = "Feature group, e.g. consumer.", Required = true };
        var file = new Option<FileInfo>("--file") { Description = "CSV file with a header row.", Required = true };
        var key = new Option<string?>("--key-column") { Description = "Column holding the entity key (default: the first column)." };
        var ts = new Option<string?>("--timestamp-column") { Description = "Column holding each row's instant (ISO 8601 or Unix seconds); default: now." };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "Write the good rows even when some are bad." };
        var settings = CliSettings.Option();
        var ingest = new Command("ingest", "Load a CSV of feature snapshots into a group (latest + history rows).") { group, file, key, ts, skip, settings };
        ingest.SetAction(async (result, cancellationToken) =>
        {
            var options = new IngestOptions(result.GetValue(group)!, result.GetValue(file)!, result.GetValue(key), result.GetValue(ts), result.GetValue(skip));
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            if (await CliSettings.StorageOrReportAsync(result.GetValue(settings)!, "features ingest", error) is not { } account)
            {
                return BadInput;
            }

            return await IngestAsync(options, account.FeatureStore(), TimeProvider.System, output, error, cancellationToken);
        });
        return new Command("features", "Feature groups: ingest snapshots.") { ingest };
    }

    public static async Task<int> IngestAsync(IngestOptions options, IFeatureWriter writer, TimeProvider time, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!FeatureGroups.IsValidName(options.Group))
        {
            await error.WriteLineAsync($"features ingest: '{options.Group}' is not a group name (a letter, then up to 39 letters or digits).");
            return BadInput;
        }

        if (!options.File.Exists)
        {
            await error.WriteLineAsync($"features ingest: {options.File.FullName} does not exist.");
            return BadInput;
        }

        var now = time.GetUtcNow();
        Layout layout;
        Scan scan;
        try
        {
            layout = ReadHeader(options);
            scan = ScanFile(options, layout, now);
        }
        catch (InvalidDataException e)
        {
            await error.WriteLineAsync($"features ingest: {options.File.Name}: {e.Message}");
            return BadInput;
        }

        foreach (var bad in scan.BadRows.Take(MaxReportedErrors))
        {
            await error.WriteLineAsync($"  line {bad.Line}: {bad.Reason}");
        }

        if (scan.BadCount > MaxReportedErrors)
        {
            await error.WriteLineAsync($"  … and {scan.BadCount - MaxReportedErrors} more bad rows");
        }

        if (scan.BadCount > 0 && !options.SkipBadRows)
        {
            await error.WriteLineAsync($"features ingest: {scan.BadCount} of {scan.BadCount + scan.GoodCount} rows are bad; nothing was written. Fix them, or pass --skip-bad-rows to write the {scan.GoodCount} good ones.");
            return BadInput;
        }

        var schema = new FeatureGroupSchema(options.Group, layout.ValueColumns.ToDictionary(c => layout.Names[c], c => scan.Types[c], StringComparer.Ordinal));
        await writer.PrepareGroupAsync(schema, cancellationToken);

        var clock = Stopwatch.StartNew();
        var progress = new ProgressBar(error, scan.GoodCount);
        var failures = new List<(EntityWriteResult Result, long FirstLine)>();
        long written = 0;
        var entities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in ReadSnapshots(options, layout, scan.Types, now).Chunk(ChunkRows))
        {
            var byEntity = chunk.GroupBy(s => s.EntityKey, StringComparer.Ordinal).ToList();
            await Parallel.ForEachAsync(byEntity, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (entity, ct) =>
            {
                var rows = entity.ToList();
                EntityWriteResult result;
                try
                {
                    result = await writer.WriteEntityAsync(options.Group, entity.Key, rows, ct);
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
                        failures.Add((result, rows.Min(r => r.Line)));
                    }

                    progress.Report(rows.Count);
                }
            });
        }

        progress.Done();
        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Ingested {written:N0} snapshots of {entities.Count - failures.Count:N0} entities into '{options.Group}' ({schema.Properties.Count} properties: {string.Join(", ", schema.Properties.Select(p => $"{p.Key}:{p.Value.ToString().ToLowerInvariant()}"))}) in {seconds:0.0} s ({written / seconds:N0} rows/s); {scan.BadCount} bad rows skipped; {failures.Count} entities failed."));
        foreach (var (result, line) in failures.Take(MaxReportedErrors))
        {
            await error.WriteLineAsync($"  entity '{result.EntityKey}' (first at line {line}): not written: {result.Error}");
        }

        return failures.Count == 0 ? 0 : WriteFailed;
    }

    /// <summary>Which column is the key, which the timestamp, and which hold values.</summary>
    private sealed record Layout(string[] Names, int KeyColumn, int TimestampColumn, int[] ValueColumns);

    private sealed record BadRow(long Line, string Reason);

    private sealed record Scan(FeatureType[] Types, long GoodCount, long BadCount, List<BadRow> BadRows);

    private static Layout ReadHeader(IngestOptions options)
    {
        using var reader = options.File.OpenText();
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

        var key = options.KeyColumn is null ? 0 : Find(options.KeyColumn, "key");
        var ts = options.TimestampColumn is null ? -1 : Find(options.TimestampColumn, "timestamp");
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

    private static Scan ScanFile(IngestOptions options, Layout layout, DateTimeOffset now)
    {
        var numeric = Enumerable.Repeat(true, layout.Names.Length).ToArray();
        var boolean = Enumerable.Repeat(true, layout.Names.Length).ToArray();
        var seen = new bool[layout.Names.Length];
        long good = 0, bad = 0;
        var badRows = new List<BadRow>();
        using var reader = options.File.OpenText();
        foreach (var record in CsvRecords.Read(reader).Skip(1))
        {
            if (Check(record, layout, now, out _) is { } reason)
            {
                bad++;
                if (badRows.Count < MaxReportedErrors)
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

    private static IEnumerable<FeatureSnapshot> ReadSnapshots(IngestOptions options, Layout layout, FeatureType[] types, DateTimeOffset now)
    {
        using var reader = options.File.OpenText();
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

/// <summary>A progress bar on standard error: redrawn in place on a terminal, a line per 10 % when redirected.</summary>
internal sealed class ProgressBar(TextWriter writer, long total)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly bool terminal = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private long done;
    private int lastDecile = -1;
    private long lastDraw;

    public void Report(int added)
    {
        done += added;
        var fraction = total == 0 ? 1 : (double)done / total;
        if (terminal)
        {
            if (clock.ElapsedMilliseconds - lastDraw < 100 && done < total)
            {
                return;
            }

            lastDraw = clock.ElapsedMilliseconds;
            var filled = (int)(fraction * 30);
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{new string('#', filled)}{new string(' ', 30 - filled)}] {done:N0}/{total:N0} rows  {done / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):N0} rows/s "));
        }
        else if ((int)(fraction * 10) is var decile && decile > lastDecile)
        {
            lastDecile = decile;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {decile * 10,3}%  {done:N0}/{total:N0} rows"));
        }
    }

    public void Done()
    {
        if (terminal)
        {
            writer.WriteLine();
        }
    }
}
