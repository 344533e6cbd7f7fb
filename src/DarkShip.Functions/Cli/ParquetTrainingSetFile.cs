using DarkShip.Serving.Export;
using DarkShip.Serving.Manifests;
using Parquet;
using Parquet.Schema;

namespace DarkShip.Functions.Cli;

/// <summary>
/// An export as Apache Parquet (Parquet.Net), typed: strings for ids, model, version and arm, a boolean
/// for served, UTC timestamps (microseconds) for the times, a double for the label, floats for scores
/// and features (null where the value was missing), and a category feature as its label (null where the
/// code was missing or unlisted), read from the manifest of the version that served it.
/// Rows are held in column buffers up to <see cref="RowGroupRows"/> and written as one row group; every
/// commit ends the file with its footer, so the file on disk is a whole Parquet file at every checkpoint,
/// and a resumed export appends row groups to it. Memory holds one row group whatever the export's size.
/// </summary>
internal sealed class ParquetTrainingSetFile : TrainingSetFile
{
    /// <summary>Rows per row group (and between checkpoints): ~1–3 MB of column data for a model of a few dozen features.</summary>
    public const int RowGroupRows = 50_000;

    private readonly FileStream file;
    private readonly IServedManifests? manifests;
    private readonly ModelManifest? addedFrom;
    private readonly int rowGroupRows;
    private readonly Dictionary<string, string[]?[]?> labelsByVersion = new(StringComparer.Ordinal);
    private Buffers? buffers;

    /// <param name="file">The output, readable and writable (appending reads the footer back).</param>
    /// <param name="columns">The columns a checkpoint brought back, when resuming.</param>
    /// <param name="manifests">The registered manifests, for the labels of category features (without: categories are written as their codes).</param>
    /// <param name="addedFrom">The <c>--features</c> manifest, for the labels of the category features it adds.</param>
    /// <param name="rowGroupRows">Rows per row group.</param>
    public ParquetTrainingSetFile(FileStream file, Columns? columns, IServedManifests? manifests, ModelManifest? addedFrom, int rowGroupRows = RowGroupRows)
    {
        this.file = file;
        this.manifests = manifests;
        this.addedFrom = addedFrom;
        this.rowGroupRows = rowGroupRows;
        if (columns is not null)
        {
            Columns = columns;
            buffers = new Buffers(columns, rowGroupRows);
        }
    }

    public override bool CommitDue => buffers?.Count >= rowGroupRows;

    public override async ValueTask<bool> WriteAsync(ExportedRow row, CancellationToken cancellationToken)
    {
        var e = row.Row.Row.Entry;
        if (Columns is null)
        {
            var first = manifests is null ? null : await manifests.FindAsync(e.Model, e.Version, cancellationToken);
            Columns = Columns.Of(row, [.. e.Features.Select(f => f.Key).Where(f => CategoriesOf(first, f) is not null)
                .Concat(row.Added.Select(f => f.Key).Where(f => CategoriesOf(addedFrom, f) is not null))]);
            buffers = new Buffers(Columns, rowGroupRows);
        }

        if (!Columns.Fits(row) || await LabelsOfAsync(e.Model, e.Version, cancellationToken) is not { } labels)
        {
            return false;
        }

        buffers!.Add(row, labels);
        return true;
    }

    public override async ValueTask<long> CommitAsync(CancellationToken cancellationToken)
    {
        if (buffers is { Count: 0 } && file.Length > 0)
        {
            return file.Length;
        }

        var fields = Fields(Columns);
        var schema = new ParquetSchema(fields);
        await using (var writer = await ParquetWriter.CreateAsync(schema, file, append: file.Length > 0, cancellationToken: cancellationToken))
        {
            if (buffers is { Count: > 0 } b)
            {
                using var group = writer.CreateRowGroup();
                await b.WriteAsync(group, fields, cancellationToken);
                b.Clear();
            }
        }

        await file.FlushAsync(cancellationToken);
        return file.Length;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The schema: the fixed columns, then scores, logged features and added features (none of those when no row fixed them).</summary>
    private static DataField[] Fields(Columns? columns)
    {
        var fields = new List<DataField>
        {
            new DataField<string>("prediction_id", nullable: false),
            new DataField<string>("model", nullable: false),
            new DataField<string>("version", nullable: false),
            new DataField<string>("arm", nullable: false),
            new DataField<bool>("served"),
            new DateTimeDataField("predicted_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false),
            new DateTimeDataField("observed_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
            new DataField<double?>("label"),
        };
        if (columns is not null)
        {
            fields.AddRange(columns.ScoreNames.Select(n => new DataField<float>(n)));
            foreach (var name in columns.Features.Concat(columns.Added))
            {
                fields.Add(columns.Categorical?.Contains(name) == true ? new DataField<string>(name, nullable: true) : new DataField<float?>(name));
            }
        }

        return [.. fields];
    }

    /// <summary>The labels of each categorical logged column for <paramref name="version"/>; <see langword="null"/> when its manifest does not make one of them a category.</summary>
    private async ValueTask<string[]?[]?> LabelsOfAsync(string model, string version, CancellationToken cancellationToken)
    {
        if (labelsByVersion.TryGetValue(version, out var known))
        {
            return known;
        }

        var columns = Columns!;
        var manifest = manifests is null ? null : await manifests.FindAsync(model, version, cancellationToken);
        var labels = new string[]?[columns.Features.Count + columns.Added.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            var name = i < columns.Features.Count ? columns.Features[i] : columns.Added[i - columns.Features.Count];
            if (columns.Categorical?.Contains(name) != true)
            {
                continue;
            }

            labels[i] = CategoriesOf(i < columns.Features.Count ? manifest : addedFrom, name) is { } c ? [.. c] : null;
            if (labels[i] is null)
            {
                labelsByVersion[version] = null; // the column holds labels, and this version's codes cannot be read as labels
                return null;
            }
        }

        labelsByVersion[version] = labels;
        return labels;
    }

    private static IReadOnlyList<string>? CategoriesOf(ModelManifest? manifest, string feature) =>
        manifest?.Features.FirstOrDefault(f => f.Name == feature) is { Type: ManifestFeatureType.Category, Categories: { } categories } ? categories : null;

    /// <summary>One row group's values, column by column.</summary>
    private sealed class Buffers(Columns columns, int capacity)
    {
        private readonly string[] ids = new string[capacity];
        private readonly string[] models = new string[capacity];
        private readonly string[] versions = new string[capacity];
        private readonly string[] arms = new string[capacity];
        private readonly bool[] served = new bool[capacity];
        private readonly DateTime[] predictedAt = new DateTime[capacity];
        private readonly DateTime?[] observedAt = new DateTime?[capacity];
        private readonly double?[] labels = new double?[capacity];
        private readonly float[][] scores = [.. Enumerable.Range(0, columns.Scores).Select(_ => new float[capacity])];
        private readonly float?[]?[] numbers = [.. columns.Features.Concat(columns.Added).Select(n => columns.Categorical?.Contains(n) == true ? null : new float?[capacity])];
        private readonly string?[]?[] categories = [.. columns.Features.Concat(columns.Added).Select(n => columns.Categorical?.Contains(n) == true ? new string?[capacity] : null)];

        public int Count { get; private set; }

        public void Add(ExportedRow row, string[]?[] categoryLabels)
        {
            var e = row.Row.Row.Entry;
            var i = Count++;
            ids[i] = e.PredictionId;
            models[i] = e.Model;
            versions[i] = e.Version;
            arms[i] = e.Arm;
            served[i] = e.Served;
            predictedAt[i] = e.Timestamp.UtcDateTime;
            observedAt[i] = row.Row.ObservedAt?.UtcDateTime;
            labels[i] = row.Row.Label;
            for (var s = 0; s < scores.Length; s++)
            {
                scores[s][i] = e.Scores[s];
            }

            for (var f = 0; f < numbers.Length; f++)
            {
                var value = f < e.Features.Count ? e.Features[f].Value : row.Added[f - e.Features.Count].Value;
                if (numbers[f] is { } column)
                {
                    column[i] = float.IsFinite(value) ? value : null;
                }
                else
                {
                    var known = categoryLabels[f]!;
                    categories[f]![i] = float.IsFinite(value) && value >= 0 && value < known.Length && value == MathF.Floor(value) ? known[(int)value] : null;
                }
            }
        }

        public async Task WriteAsync(ParquetRowGroupWriter group, DataField[] fields, CancellationToken cancellationToken)
        {
            var n = Count;
            var c = 0;
            await group.WriteAsync(fields[c++], new ArraySegment<string>(ids, 0, n));
            await group.WriteAsync(fields[c++], new ArraySegment<string>(models, 0, n));
            await group.WriteAsync(fields[c++], new ArraySegment<string>(versions, 0, n));
            await group.WriteAsync(fields[c++], new ArraySegment<string>(arms, 0, n));
            await group.WriteAsync<bool>(fields[c++], served.AsMemory(0, n), cancellationToken: cancellationToken);
            await group.WriteAsync<DateTime>(fields[c++], predictedAt.AsMemory(0, n), cancellationToken: cancellationToken);
            await group.WriteAsync<DateTime>(fields[c++], observedAt.AsMemory(0, n), cancellationToken: cancellationToken);
            await group.WriteAsync<double>(fields[c++], labels.AsMemory(0, n), cancellationToken: cancellationToken);
            foreach (var column in scores)
            {
                await group.WriteAsync<float>(fields[c++], column.AsMemory(0, n), cancellationToken: cancellationToken);
            }

            for (var f = 0; f < numbers.Length; f++)
            {
                if (numbers[f] is { } column)
                {
                    await group.WriteAsync<float>(fields[c++], column.AsMemory(0, n), cancellationToken: cancellationToken);
                }
                else
                {
                    await group.WriteAsync(fields[c++], new ArraySegment<string?>(categories[f]!, 0, n)!);
                }
            }
        }

        public void Clear()
        {
            Array.Clear(ids, 0, Count);
            Array.Clear(models, 0, Count);
            Array.Clear(versions, 0, Count);
            Array.Clear(arms, 0, Count);
            foreach (var column in categories)
            {
                if (column is not null)
                {
                    Array.Clear(column, 0, Count);
                }
            }

            Count = 0;
        }
    }
}
