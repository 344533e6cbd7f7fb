using System.CommandLine;
using System.Text;
using System.Text.Json;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Export;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship export</c>: a training set from the model log, every logged prediction of a time range
/// with the features exactly as served and its outcome; with <c>--features</c>, a new manifest's other
/// features too, read as of each prediction's timestamp. Streams; shows progress on stderr; an
/// interrupted export leaves <c>{output}.checkpoint</c> and running the same command again resumes
/// it without repeating a row. Exit codes: 0 done, 1 failed or interrupted (resumable), 2 bad input.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var settings = CliSettings.Option();
        var model = new Option<string>("--model") { Description = "The model.", Required = true };
        var from = new Option<DateTimeOffset>("--from") { Description = "First prediction time, e.g. 2026-11-01 (UTC unless an offset is given).", Required = true };
        var to = new Option<DateTimeOffset>("--to") { Description = "Last prediction time, exclusive, e.g. 2026-11-15.", Required = true };
        var version = new Option<string?>("--version") { Description = "Only this version's predictions." };
        var format = new Option<string>("--format") { Description = "csv, jsonl or parquet (typed columns; category features as their labels).", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong(ExportCli.Formats);
        var output = new Option<FileInfo>("--output") { Description = "The file to write.", Required = true };
        var dropUnlabelled = new Option<bool>("--drop-unlabelled") { Description = "Leave out predictions without an outcome (kept, label empty, by default)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file (one with a checkpoint is resumed instead)." };
        var features = new Option<FileInfo?>("--features") { Description = "A manifest whose features the log does not hold are added, read from the feature store as of each prediction's timestamp." };
        var source = new TrafficSource();
        var command = new Command("export", "Write a training set from the model log (or Event Hubs Capture): features as served, labels from outcomes; resumable.")
        {
            model, from, to, version, format, output, dropUnlabelled, overwrite, features, settings,
        };
        foreach (var option in source.Options)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (r, ct) =>
        {
            var error = r.InvocationConfiguration.Error;
            if (await CliSettings.StorageOrReportAsync(r.GetValue(settings)!, "export", error) is not { } account)
            {
                return 2;
            }

            var manifests = new RegisteredManifests(account.Registry(), account.Artifacts());
            PointInTimeFeatures? pointInTime = null;
            if (r.GetValue(features) is { } manifestFile)
            {
                Serving.Manifests.ModelManifest? manifest;
                try
                {
                    manifest = await ManifestFiles.ReadAsync("export", manifestFile, account.FeatureStore(), error, ct);
                }
                catch (Exception e) when (StorageFailure.Is(e, ct))
                {
                    await error.WriteLineAsync($"export: the feature store could not be read: {e.Message}");
                    return 1;
                }

                if (manifest is null)
                {
                    return 2;
                }

                pointInTime = new PointInTimeFeatures(account.FeatureStore(), manifests, new FeaturePlan(manifest), readAheadTo: ToUtc(r.GetValue(to)));
            }

            var range = new ExportRange(r.GetValue(model)!, ToUtc(r.GetValue(from)), ToUtc(r.GetValue(to)), r.GetValue(version), !r.GetValue(dropUnlabelled));
            var (traffic, failed) = await source.OpenAsync(r, account, manifests, "export", error, ct);
            if (traffic is null)
            {
                return failed;
            }

            var exporter = new TrainingSetExporter(traffic.Log, account.Outcomes());
            var code = await ExportCli.RunAsync(exporter, range, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(overwrite), error, ct, pointInTime, manifests);
            await TrafficSource.ReportAsync(traffic, "export", error);
            return code;
        });
        return command;
    }

    private static DateTimeOffset ToUtc(DateTimeOffset at) => at.ToUniversalTime();
}

/// <summary>The export's file handling: formats, checkpoints and resuming.</summary>
internal static class ExportCli
{
    /// <summary>The formats <c>--format</c> takes.</summary>
    public static readonly string[] Formats = ["csv", "jsonl", "parquet"];

    /// <summary>
    /// Writes <paramref name="range"/>'s rows to <paramref name="output"/> in <paramref name="format"/>, resuming from its
    /// checkpoint when one is there; <paramref name="pointInTime"/> adds a manifest's features as of each prediction;
    /// <paramref name="manifests"/> gives a Parquet export the labels of category features; <paramref name="parquetRowGroupRows"/>
    /// rows make a Parquet row group (and lie between its checkpoints). Progress and problems go to <paramref name="progress"/>.
    /// Stops between rows on <paramref name="cancellationToken"/>, leaving a checkpoint; <paramref name="overwrite"/> replaces an
    /// output without one. Takes its rows from <paramref name="exporter"/>. 0 done, 1 stopped (resumable), 2 bad input.
    /// </summary>
    public static async Task<int> RunAsync(TrainingSetExporter exporter, ExportRange range, string format, FileInfo output, bool overwrite, TextWriter progress, CancellationToken cancellationToken,
        PointInTimeFeatures? pointInTime = null, IServedManifests? manifests = null, int parquetRowGroupRows = ParquetTrainingSetFile.RowGroupRows)
    {
        if (range.To <= range.From)
        {
            await progress.WriteLineAsync("export: --to must be after --from.");
            return 2;
        }

        output.Refresh();
        var checkpointFile = new FileInfo(output.FullName + ".checkpoint");
        var identity = $"{range.Model}|{range.From:O}|{range.To:O}|{range.Version}|{range.KeepUnlabelled}|{format}|{pointInTime?.Plan.Manifest.Name}:{string.Join(';', pointInTime?.Plan.Features.Select(f => f.Name) ?? [])}";
        Checkpoint? resume = null;
        if (checkpointFile.Exists)
        {
            resume = Checkpoint.Read(File.ReadAllText(checkpointFile.FullName));
            if (resume.Identity != identity || !output.Exists || output.Length < resume.Bytes)
            {
                await progress.WriteLineAsync($"export: {checkpointFile.Name} belongs to another export (or its output was changed); delete it to start afresh.");
                return 2;
            }

            await progress.WriteLineAsync($"export: resuming after {resume.Rows} rows ({resume.Position.Hour:yyyy-MM-dd HH}:00)");
        }
        else if (output.Exists && !overwrite)
        {
            await progress.WriteLineAsync($"export: {output.FullName} exists; pass --overwrite to replace it.");
            return 2;
        }

        await using var file = new FileStream(output.FullName, resume is null ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite);
        file.SetLength(resume?.Bytes ?? 0); // a resumed export drops whatever was written after its checkpoint
        file.Position = file.Length;
        await using TrainingSetFile writer = format switch
        {
            "csv" => new CsvTrainingSetFile(file, resume?.Columns),
            "jsonl" => new JsonlTrainingSetFile(file),
            "parquet" => new ParquetTrainingSetFile(file, resume?.Columns, manifests, pointInTime?.Plan.Manifest, parquetRowGroupRows),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "csv, jsonl or parquet"),
        };
        var rows = resume?.Rows ?? 0;
        var labelled = resume?.Labelled ?? 0;
        var position = resume?.Position;
        try
        {
            await foreach (var row in Rows(exporter.ReadAsync(range, position, cancellationToken), pointInTime, cancellationToken))
            {
                if (!await writer.WriteAsync(row, cancellationToken))
                {
                    await progress.WriteLineAsync($"export: version {row.Row.Row.Entry.Version} has other features than the first rows; export one --version at a time, or use --format jsonl.");
                    await SaveAsync(writer, checkpointFile, identity, position, rows, labelled);
                    return 2;
                }

                rows++;
                labelled += row.Row.Label is null ? 0 : 1;
                position = new ExportPosition(TrainingSetExporter.Floor(PredictionId.TimestampOf(row.Row.Row.Entry.PredictionId) ?? row.Row.Row.Entry.Timestamp), row.Row.Row.RowKey);
                if (writer.CommitDue)
                {
                    await SaveAsync(writer, checkpointFile, identity, position, rows, labelled);
                    await progress.WriteAsync($"\rexport: {rows} rows ({labelled} labelled), at {position.Hour:yyyy-MM-dd HH}:00   ");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException || StorageFailure.Is(e))
        {
            await SaveAsync(writer, checkpointFile, identity, position, rows, labelled);
            await progress.WriteLineAsync($"\nexport: stopped after {rows} rows ({e.Message}); run the same command again to resume.");
            return 1;
        }

        await writer.CommitAsync(CancellationToken.None);
        checkpointFile.Refresh();
        if (checkpointFile.Exists)
        {
            checkpointFile.Delete();
        }

        await progress.WriteLineAsync($"\rexport: {rows} rows ({labelled} labelled) written to {output.FullName}");
        return 0;
    }

    /// <summary>Commits what was written and records it, unless nothing was (then there is nothing to resume from).</summary>
    private static async Task SaveAsync(TrainingSetFile writer, FileInfo checkpointFile, string identity, ExportPosition? position, long rows, long labelled)
    {
        if (position is null)
        {
            return;
        }

        var bytes = await writer.CommitAsync(CancellationToken.None);
        var checkpoint = new Checkpoint(identity, position, bytes, rows, labelled, writer.Columns);
        var temporary = checkpointFile.FullName + ".tmp";
        await File.WriteAllTextAsync(temporary, checkpoint.Write(), CancellationToken.None);
        File.Move(temporary, checkpointFile.FullName, overwrite: true); // a checkpoint is replaced whole or not at all
    }

    /// <summary>The rows, each with the features <paramref name="pointInTime"/>'s manifest adds (name and value as it would have been served then), if any.</summary>
    private static async IAsyncEnumerable<ExportedRow> Rows(
        IAsyncEnumerable<TrainingRow> rows, PointInTimeFeatures? pointInTime, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (pointInTime is null)
        {
            await foreach (var row in rows.WithCancellation(cancellationToken))
            {
                yield return new ExportedRow(row, []);
            }

            yield break;
        }

        var features = pointInTime.Plan.Features;
        await foreach (var filled in pointInTime.ReadAsync(rows, cancellationToken))
        {
            var served = filled.Row.Row.Entry.Features;
            var added = new List<KeyValuePair<string, float>>();
            for (var i = 0; i < features.Length; i++)
            {
                if (!served.Any(f => f.Key == features[i].Name))
                {
                    added.Add(KeyValuePair.Create(features[i].Name, filled.Input[i]));
                }
            }

            yield return new ExportedRow(filled.Row, added);
        }
    }

    /// <summary>Where an export stands on disk.</summary>
    private sealed record Checkpoint(string Identity, ExportPosition Position, long Bytes, long Rows, long Labelled, Columns? Columns)
    {
        public string Write()
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("identity", Identity);
                w.WriteString("hour", Position.Hour);
                w.WriteString("after", Position.AfterRowKey);
                w.WriteNumber("bytes", Bytes);
                w.WriteNumber("rows", Rows);
                w.WriteNumber("labelled", Labelled);
                if (Columns is not null)
                {
                    w.WriteNumber("scores", Columns.Scores);
                    WriteNames(w, "features", Columns.Features);
                    WriteNames(w, "added", Columns.Added);
                    if (Columns.Categorical is not null)
                    {
                        WriteNames(w, "categorical", Columns.Categorical);
                    }
                }

                w.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }

        public static Checkpoint Read(string json)
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var columns = r.TryGetProperty("features", out var f)
                ? new Columns(r.GetProperty("scores").GetInt32(), Names(f), Names(r.GetProperty("added")), r.TryGetProperty("categorical", out var c) ? Names(c) : null)
                : null;
            return new Checkpoint(r.GetProperty("identity").GetString()!, new ExportPosition(r.GetProperty("hour").GetDateTimeOffset(), r.GetProperty("after").GetString()),
                r.GetProperty("bytes").GetInt64(), r.GetProperty("rows").GetInt64(), r.GetProperty("labelled").GetInt64(), columns);
        }

        private static void WriteNames(Utf8JsonWriter w, string name, IReadOnlyList<string> names)
        {
            w.WriteStartArray(name);
            foreach (var n in names)
            {
                w.WriteStringValue(n);
            }

            w.WriteEndArray();
        }

        private static string[] Names(JsonElement array) => [.. array.EnumerateArray().Select(x => x.GetString()!)];
    }
}
