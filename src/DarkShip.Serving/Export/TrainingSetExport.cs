using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Serving.Export;

/// <summary>Reads the model log hour partition by hour partition, in prediction-id order.</summary>
public interface IPredictionLogScanner
{
    /// <summary>
    /// The rows of <paramref name="model"/>'s predictions made in the UTC hour starting at
    /// <paramref name="hour"/>, in row-key order (prediction id, then version), after the row key
    /// <paramref name="after"/> when given.
    /// </summary>
    IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, CancellationToken cancellationToken = default);
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
/// with the features exactly as the version scored them, joined to its outcome. Streams: one hour
/// partition and that hour's labels in memory at a time, whatever the range. An export can resume
/// from any <see cref="ExportPosition"/> without repeating a row, because rows come in key order.
/// </summary>
public sealed class TrainingSetExporter(IPredictionLogScanner log, IOutcomeStore outcomes)
{
    /// <summary>The rows of <paramref name="range"/>, from <paramref name="resume"/> on when given.</summary>
    public async IAsyncEnumerable<TrainingRow> ReadAsync(ExportRange range, ExportPosition? resume, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var hour = resume?.Hour ?? Floor(range.From);
        var after = resume?.AfterRowKey;
        for (; hour < range.To; hour = hour.AddHours(1), after = null)
        {
            var labels = new Dictionary<string, Dictionary<string, (double Label, DateTimeOffset ObservedAt)>>(StringComparer.Ordinal);
            await foreach (var row in log.ReadHourAsync(range.Model, hour, after, cancellationToken).ConfigureAwait(false))
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
                    yield return new TrainingRow(row, outcome.Label, outcome.ObservedAt);
                }
                else if (range.KeepUnlabelled)
                {
                    yield return new TrainingRow(row, null, null);
                }
            }
        }
    }

    /// <summary>The start of the UTC hour holding <paramref name="at"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);
}
