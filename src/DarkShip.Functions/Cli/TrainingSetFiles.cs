using System.Globalization;
using System.Text;
using System.Text.Json;
using DarkShip.Serving.Export;

namespace DarkShip.Functions.Cli;

/// <summary>One row as exported: the training row and the features a <c>--features</c> manifest adds (name and value as served then).</summary>
internal readonly record struct ExportedRow(TrainingRow Row, IReadOnlyList<KeyValuePair<string, float>> Added);

/// <summary>
/// The columns of a CSV or Parquet export, fixed by the first row: its score count, feature names, the
/// names of the features a <c>--features</c> manifest adds, and (Parquet) which of them are categories
/// written as their labels.
/// </summary>
internal sealed record Columns(int Scores, IReadOnlyList<string> Features, IReadOnlyList<string> Added, IReadOnlyList<string>? Categorical = null)
{
    /// <summary>The columns every export starts with, in order.</summary>
    public static readonly string[] Fixed = ["prediction_id", "model", "version", "arm", "served", "predicted_at", "observed_at", "label"];

    public static Columns Of(ExportedRow row, IReadOnlyList<string>? categorical = null) =>
        new(row.Row.Row.Entry.Scores.Length, [.. row.Row.Row.Entry.Features.Select(f => f.Key)], [.. row.Added.Select(f => f.Key)], categorical);

    public bool Fits(ExportedRow row) =>
        row.Row.Row.Entry.Scores.Length == Scores && row.Row.Row.Entry.Features.Select(f => f.Key).SequenceEqual(Features, StringComparer.Ordinal)
        && row.Added.Select(f => f.Key).SequenceEqual(Added, StringComparer.Ordinal);

    /// <summary>The score columns' names: <c>score</c>, or <c>score_0</c>, <c>score_1</c>, … for several outputs.</summary>
    public IEnumerable<string> ScoreNames => Scores == 1 ? ["score"] : Enumerable.Range(0, Scores).Select(i => $"score_{i}");
}

/// <summary>
/// An export's output file in one format. Rows are written one at a time; <see cref="CommitAsync"/> makes
/// every row written so far whole on disk and returns the file's length at that point, which a checkpoint
/// records: a resumed export cuts the file back to it and goes on writing.
/// </summary>
internal abstract class TrainingSetFile : IAsyncDisposable
{
    /// <summary>The columns, once the first row fixed them (or the checkpoint brought them back).</summary>
    public Columns? Columns { get; protected set; }

    /// <summary>Whether enough rows wait to be committed that a checkpoint is due.</summary>
    public abstract bool CommitDue { get; }

    /// <summary>Writes one row; <see langword="false"/> when it does not fit the columns the first row fixed (nothing written then).</summary>
    public abstract ValueTask<bool> WriteAsync(ExportedRow row, CancellationToken cancellationToken);

    /// <summary>Makes every row written so far whole on disk; returns the file's length.</summary>
    public abstract ValueTask<long> CommitAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>A float as the model log writes it (round-trip form), so exported values equal served ones byte for byte.</summary>
    public static string F(float f) => f.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A text export, one line per row: written through a buffer, committed (flushed) every <see cref="CommitEvery"/> rows.</summary>
internal abstract class LineTrainingSetFile(FileStream file) : TrainingSetFile
{
    /// <summary>Rows between checkpoints.</summary>
    public const int CommitEvery = 500;

    private int pending;

    protected StreamWriter Writer { get; } = new(file, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };

    public override bool CommitDue => pending >= CommitEvery;

    public override async ValueTask<bool> WriteAsync(ExportedRow row, CancellationToken cancellationToken)
    {
        if (await LineAsync(row, cancellationToken) is not { } line)
        {
            return false;
        }

        await Writer.WriteLineAsync(line.AsMemory(), cancellationToken);
        pending++;
        return true;
    }

    public override async ValueTask<long> CommitAsync(CancellationToken cancellationToken)
    {
        await Writer.FlushAsync(cancellationToken);
        pending = 0;
        return file.Position;
    }

    public override async ValueTask DisposeAsync() => await Writer.DisposeAsync();

    /// <summary>The row's line, or <see langword="null"/> when it does not fit the file.</summary>
    protected abstract ValueTask<string?> LineAsync(ExportedRow row, CancellationToken cancellationToken);
}

/// <summary>Comma-separated values with a header; a missing feature value is empty.</summary>
internal sealed class CsvTrainingSetFile(FileStream file, Columns? columns) : LineTrainingSetFile(file)
{
    protected override async ValueTask<string?> LineAsync(ExportedRow row, CancellationToken cancellationToken)
    {
        if (Columns is null)
        {
            Columns = columns ?? Columns.Of(row);
            if (columns is null)
            {
                await Writer.WriteLineAsync(Header(Columns).AsMemory(), cancellationToken);
            }
        }

        return Columns.Fits(row) ? Line(row) : null;
    }

    private static string Header(Columns c) =>
        string.Join(",", Columns.Fixed.Concat(c.ScoreNames).Concat(c.Features.Select(Quote)).Concat(c.Added.Select(Quote)));

    private static string Line(ExportedRow row)
    {
        var e = row.Row.Row.Entry;
        return string.Join(",", new[]
            {
                e.PredictionId, Quote(e.Model), Quote(e.Version), e.Arm, e.Served ? "true" : "false",
                e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                row.Row.ObservedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "",
                row.Row.Label?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            }
            .Concat(e.Scores.Select(F))
            .Concat(e.Features.Concat(row.Added).Select(f => float.IsFinite(f.Value) ? F(f.Value) : "")));
    }

    private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}

/// <summary>One JSON object per line; features as the model log holds them (a missing value is null). Versions may differ in features.</summary>
internal sealed class JsonlTrainingSetFile(FileStream file) : LineTrainingSetFile(file)
{
    protected override ValueTask<string?> LineAsync(ExportedRow row, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(Json(row));

    private static string Json(ExportedRow row)
    {
        var e = row.Row.Row.Entry;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("predictionId", e.PredictionId);
            w.WriteString("model", e.Model);
            w.WriteString("version", e.Version);
            w.WriteString("arm", e.Arm);
            w.WriteBoolean("served", e.Served);
            w.WriteString("predictedAt", e.Timestamp);
            if (row.Row.Label is { } label)
            {
                w.WriteNumber("label", label);
                w.WriteString("observedAt", row.Row.ObservedAt!.Value);
            }
            else
            {
                w.WriteNull("label");
                w.WriteNull("observedAt");
            }

            w.WriteStartArray("scores");
            foreach (var s in e.Scores)
            {
                w.WriteRawValue(F(s), skipInputValidation: true);
            }

            w.WriteEndArray();
            w.WritePropertyName("features");
            Serving.Mirror.MirrorEventJson.WriteFeatures(w, e.Features);
            if (row.Added.Count > 0)
            {
                w.WritePropertyName("pointInTimeFeatures");
                Serving.Mirror.MirrorEventJson.WriteFeatures(w, row.Added);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
