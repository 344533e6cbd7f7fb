using System.Threading.Channels;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Serving.Export;

/// <summary>Reads the model log hour partition by hour partition, in prediction-id order.</summary>
public interface IPredictionLogScanner
{
    /// <summary>
    /// The rows of <paramref name="model"/>'s predictions made in the UTC hour starting at
    /// <paramref name="hour"/>, in row-key order (prediction id, then version), after the row key
    /// <paramref name="after"/> when given; only <paramref name="version"/>'s when given (filtered by the
    /// store, so the other versions' rows are never sent).
    /// </summary>
    IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>How many hours an export may read at once from this log (a source that holds an hour in memory to order it asks for fewer).</summary>
    int HoursReadAhead => TrainingSetExporter.HoursAhead;
}

/// <summary>One model-log row with its key, so an export can resume after it.</summary>
public sealed record LoggedRow(string RowKey, PredictionLogEntry Entry);

/// <summary>What to export.</summary>
/// <param name="Model">The model.</param>
/// <param name="From">First prediction time (inclusive).</param>
/// <param name="To">Last prediction time (exclusive).</param>
/// <param name="Version">Only this version's rows, when given.</param>
/// <param name="KeepUnlabelled">Whether rows without an outcome are exported (label empty).</param>
/// <param name="Arm">Only this arm's rows (<c>champion</c>: one row per request, as the champion scores every request), when given.</param>
public sealed record ExportRange(string Model, DateTimeOffset From, DateTimeOffset To, string? Version, bool KeepUnlabelled, string? Arm = null);

/// <summary>Where an interrupted export stands: the hour being read and the last row written from it.</summary>
public sealed record ExportPosition(DateTimeOffset Hour, string? AfterRowKey);

/// <summary>One exported row: the logged prediction (its features exactly as served) and its outcome, if any.</summary>
public sealed record TrainingRow(LoggedRow Row, double? Label, DateTimeOffset? ObservedAt);

/// <summary>
/// Training sets from the model log: every logged prediction in a time range (of one version, or all)
/// with the features exactly as the version scored them, joined to its outcome. Hour partitions are
/// read <see cref="HoursAhead"/> at a time, each into a buffer of <see cref="HourBuffer"/> rows, and
/// handed on strictly in hour and key order: the store's round trips overlap, and memory holds a few
/// buffers and those hours' labels whatever the range. An export can resume from any
/// <see cref="ExportPosition"/> without repeating a row, because rows come in key order.
/// </summary>
public sealed class TrainingSetExporter(IPredictionLogScanner log, IOutcomeStore outcomes)
{
    /// <summary>Hour partitions read at once (unless the log asks for fewer: <see cref="IPredictionLogScanner.HoursReadAhead"/>).</summary>
    public const int HoursAhead = 4;

    /// <summary>Rows an hour's reader may hold before the reader ahead of it has been drained.</summary>
    public const int HourBuffer = 2_000;

    /// <summary>The rows of <paramref name="range"/>, from <paramref name="resume"/> on when given.</summary>
    public async IAsyncEnumerable<TrainingRow> ReadAsync(ExportRange range, ExportPosition? resume, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var first = resume?.Hour ?? Floor(range.From);
        var hours = (int)Math.Max(0, Math.Ceiling((range.To - first).TotalHours));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readers = new Queue<(ChannelReader<TrainingRow> Rows, Task Reading)>();
        var started = 0;
        void StartNext()
        {
            if (started < hours)
            {
                var buffer = Channel.CreateBounded<TrainingRow>(new BoundedChannelOptions(HourBuffer) { SingleReader = true, SingleWriter = true });
                readers.Enqueue((buffer.Reader, ReadHourAsync(range, first.AddHours(started), started == 0 ? resume?.AfterRowKey : null, buffer.Writer, stop.Token)));
                started++;
            }
        }

        for (var i = 0; i < Math.Max(1, log.HoursReadAhead); i++)
        {
            StartNext();
        }

        try
        {
            while (readers.TryPeek(out var hour)) // the hour being handed on stays queued until it is done, so `finally` sees it too
            {
                await foreach (var row in hour.Rows.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    cancellationToken.ThrowIfCancellationRequested(); // buffered rows too: an interrupted export stops between rows
                    yield return row;
                }

                await hour.Reading.ConfigureAwait(false);
                readers.Dequeue();
                StartNext();
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false); // an abandoned or failed export stops the readers ahead
            foreach (var (_, reading) in readers)
            {
                await reading.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The start of the UTC hour holding <paramref name="at"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);

    /// <summary>One hour's rows of <paramref name="range"/>, joined to their labels, into <paramref name="rows"/>; a failure completes it with the error.</summary>
    private async Task ReadHourAsync(ExportRange range, DateTimeOffset hour, string? after, ChannelWriter<TrainingRow> rows, CancellationToken cancellationToken)
    {
        try
        {
            var labels = new Dictionary<string, Dictionary<string, (double Label, DateTimeOffset ObservedAt)>>(StringComparer.Ordinal);
            await foreach (var row in log.ReadHourAsync(range.Model, hour, after, range.Version, cancellationToken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested(); // a page holds up to 1000 rows: stop between rows, not pages
                var e = row.Entry;
                if ((range.Version is not null && e.Version != range.Version) || (range.Arm is not null && e.Arm != range.Arm) || e.Timestamp < range.From || e.Timestamp >= range.To)
                {
                    continue;
                }

                if (!labels.TryGetValue(e.Version, out var byId))
                {
                    labels[e.Version] = byId = new Dictionary<string, (double, DateTimeOffset)>(StringComparer.Ordinal);
                    await foreach (var l in outcomes.ReadLabelsAsync(range.Model, e.Version, hour, hour.AddHours(1), cancellationToken).ConfigureAwait(false))
                    {
                        byId[l.Prediction.PredictionId] = (l.Label, l.ObservedAt);
                    }
                }

                if (byId.TryGetValue(e.PredictionId, out var outcome))
                {
                    await rows.WriteAsync(new TrainingRow(row, outcome.Label, outcome.ObservedAt), cancellationToken).ConfigureAwait(false);
                }
                else if (range.KeepUnlabelled)
                {
                    await rows.WriteAsync(new TrainingRow(row, null, null), cancellationToken).ConfigureAwait(false);
                }
            }

            rows.Complete();
        }
        catch (Exception e)
        {
            rows.Complete(e);
            throw;
        }
    }
}
