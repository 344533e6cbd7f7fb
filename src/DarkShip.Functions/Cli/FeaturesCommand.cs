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
/// <c>darkship features ingest</c>: loads a CSV of feature snapshots into a group through
/// <see cref="FeatureIngestion"/> (two passes, all-or-nothing unless <c>--skip-bad-rows</c>), with a
/// progress bar, and reports bad rows by line and failed entities by key.
/// </summary>
internal static class FeaturesCommand
{
    /// <summary>Exit code: the input is bad; nothing was written.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code: some entities could not be written.</summary>
    public const int WriteFailed = 1;

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
        options.File.Refresh();
        if (!options.File.Exists)
        {
            await error.WriteLineAsync($"features ingest: {options.File.FullName} does not exist.");
            return BadInput;
        }

        var request = new IngestRequest(options.Group, options.KeyColumn, options.TimestampColumn, options.SkipBadRows, options.Parallelism);
        ProgressBar? bar = null;
        var progress = new SynchronousProgress(p => (bar ??= new ProgressBar(error, p.Total)).ReportTo(p.Done));
        var outcome = await new FeatureIngestion(writer, time).IngestAsync(request, options.File.OpenText, progress, cancellationToken);
        bar?.Done();
        switch (outcome)
        {
            case IngestOutcome.Refused refused:
                await error.WriteLineAsync($"features ingest: {options.File.Name}: {refused.Reason}");
                return BadInput;
            case IngestOutcome.BadRows bad:
                await WriteBadRowsAsync(bad.Rows, bad.BadCount, error);
                await error.WriteLineAsync($"features ingest: {bad.BadCount} of {bad.BadCount + bad.GoodCount} rows are bad; nothing was written. Fix them, or pass --skip-bad-rows to write the {bad.GoodCount} good ones.");
                return BadInput;
            case IngestOutcome.Written done:
                await WriteBadRowsAsync(done.SkippedRows, done.SkippedCount, error);
                var seconds = Math.Max(done.Elapsed.TotalSeconds, 1e-3);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Ingested {done.Snapshots:N0} snapshots of {done.Entities:N0} entities into '{options.Group}' ({done.Schema.Properties.Count} properties: {string.Join(", ", done.Schema.Properties.Select(p => $"{p.Key}:{p.Value.ToString().ToLowerInvariant()}"))}) in {seconds:0.0} s ({done.Snapshots / seconds:N0} rows/s); {done.SkippedCount} bad rows skipped; {done.Failures.Count} entities failed."));
                foreach (var failure in done.Failures)
                {
                    await error.WriteLineAsync($"  entity '{failure.EntityKey}' (first at line {failure.FirstLine}): not written: {failure.Error}");
                }

                return done.Failures.Count == 0 ? 0 : WriteFailed;
            default:
                return WriteFailed;
        }
    }

    private static async Task WriteBadRowsAsync(IReadOnlyList<BadRow> rows, long count, TextWriter error)
    {
        foreach (var bad in rows)
        {
            await error.WriteLineAsync($"  line {bad.Line}: {bad.Reason}");
        }

        if (count > rows.Count)
        {
            await error.WriteLineAsync($"  … and {count - rows.Count} more bad rows");
        }
    }

    /// <summary>Reports on the writer's thread (the ingest reports under its own lock), unlike <see cref="Progress{T}"/>, which posts.</summary>
    private sealed class SynchronousProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}

/// <summary>A progress bar on standard error: redrawn in place on a terminal, a line per 10 % when redirected.</summary>
internal sealed class ProgressBar(TextWriter writer, long total)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly bool terminal = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private long done;
    private int lastDecile = -1;
    private long lastDraw;

    public void ReportTo(long rows)
    {
        done = rows;
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
