using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
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
        var format = new Option<string>("--format") { Description = "csv or jsonl.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var output = new Option<FileInfo>("--output") { Description = "The file to write.", Required = true };
        var dropUnlabelled = new Option<bool>("--drop-unlabelled") { Description = "Leave out predictions without an outcome (kept, label empty, by default)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file (one with a checkpoint is resumed instead)." };
        var features = new Option<FileInfo?>("--features") { Description = "A manifest whose features the log does not hold are added, read from the feature store as of each prediction's timestamp." };
        var command = new Command("export", "Write a training set from the model log: features as served, labels from outcomes; resumable.")
        {
            model, from, to, version, format, output, dropUnlabelled, overwrite, features, settings,
        };
        command.SetAction(async (r, ct) =>
        {
            var error = r.InvocationConfiguration.Error;
            if (await CliSettings.StorageOrReportAsync(r.GetValue(settings)!, "export", error) is not { } account)
            {
                return 2;
            }

            PointInTimeFeatures? pointInTime = null;
            if (r.GetValue(features) is { } manifestFile)
            {
                Serving.Manifests.ModelManifest? manifest;
                try
                {
                    manifest = await ManifestFiles.ReadAsync("export", manifestFile, account.FeatureStore(), error, ct);
                }
                catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException)
                {
                    await error.WriteLineAsync($"export: the feature store could not be read: {e.Message}");
                    return 1;
                }

                if (manifest is null)
                {
                    return 2;
                }

                pointInTime = new PointInTimeFeatures(account.FeatureStore(), new RegisteredManifests(account.Registry(), account.Artifacts()), new FeaturePlan(manifest), readAheadTo: ToUtc(r.GetValue(to)));
            }

            var range = new ExportRange(r.GetValue(model)!, ToUtc(r.GetValue(from)), ToUtc(r.GetValue(to)), r.GetValue(version), !r.GetValue(dropUnlabelled));
            var exporter = new TrainingSetExporter(account.PredictionLog(), account.Outcomes());
            return await ExportCli.RunAsync(exporter, range, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(overwrite), error, ct, pointInTime);
        });
        return command;
    }

    private static DateTimeOffset ToUtc(DateTimeOffset at) => at.ToUniversalTime();
}

/// <summary>The export's file handling: formats, checkpoints and resuming.</summary>
internal static class ExportCli
{
    /// <summary>Rows between checkpoints.</summary>
    public const int CheckpointEvery = 500;

    public static async Task<int> RunAsync(TrainingSetExporter exporter, ExportRange range, string format, FileInfo output, bool overwrite, TextWriter progress, CancellationToken cancellationToken, PointInTimeFeatures? pointInTime = null)
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

        await using var file = new FileStream(output.FullName, resume is null ? FileMode.Create : FileMode.Open, FileAccess.Write);
        file.SetLength(resume?.Bytes ?? 0); // a resumed export drops whatever was written after its checkpoint
        file.Position = file.Length;
        await using var writer = new StreamWriter(file, new UTF8Encoding(false)) { NewLine = "\n" };
        var rows = resume?.Rows ?? 0;
        var labelled = resume?.Labelled ?? 0;
        var columns = resume?.Columns;
        var position = resume?.Position;
        try
        {
            await foreach (var (row, added) in Rows(exporter.ReadAsync(range, position, cancellationToken), pointInTime, cancellationToken))
            {
                if (format == "csv")
                {
                    if (columns is null)
                    {
                        columns = Columns.Of(row, added);
                        await writer.WriteLineAsync(columns.Header());
                    }

                    if (!columns.Fits(row, added))
                    {
                        await progress.WriteLineAsync($"export: version {row.Row.Entry.Version} has other features than the first rows; export one --version at a time, or use --format jsonl.");
                        await SaveAsync(writer, file, checkpointFile, identity, position!, rows, labelled, columns);
                        return 2;
                    }

                    await writer.WriteLineAsync(columns.Line(row, added));
                }
                else
                {
                    await writer.WriteLineAsync(Json(row, added));
                }

                rows++;
                labelled += row.Label is null ? 0 : 1;
                position = new ExportPosition(TrainingSetExporter.Floor(PredictionId.TimestampOf(row.Row.Entry.PredictionId) ?? row.Row.Entry.Timestamp), row.Row.RowKey);
                if (rows % CheckpointEvery == 0)
                {
                    await SaveAsync(writer, file, checkpointFile, identity, position, rows, labelled, columns);
                    await progress.WriteAsync($"\rexport: {rows} rows ({labelled} labelled), at {position.Hour:yyyy-MM-dd HH}:00   ");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or Azure.RequestFailedException or HttpRequestException)
        {
            if (position is not null)
            {
                await SaveAsync(writer, file, checkpointFile, identity, position, rows, labelled, columns);
            }

            await progress.WriteLineAsync($"\nexport: stopped after {rows} rows ({e.Message}); run the same command again to resume.");
            return 1;
        }

        await writer.FlushAsync(CancellationToken.None);
        checkpointFile.Refresh();
        if (checkpointFile.Exists)
        {
            checkpointFile.Delete();
        }

        await progress.WriteLineAsync($"\rexport: {rows} rows ({labelled} labelled) written to {output.FullName}");
        return 0;
    }

    private static async Task SaveAsync(StreamWriter writer, FileStream file, FileInfo checkpointFile, string identity, ExportPosition position, long rows, long labelled, Columns? columns)
    {
        await writer.FlushAsync(CancellationToken.None);
        var checkpoint = new Checkpoint(identity, position, file.Position, rows, labelled, columns);
        var temporary = checkpointFile.FullName + ".tmp";
        await File.WriteAllTextAsync(temporary, checkpoint.Write(), CancellationToken.None);
        File.Move(temporary, checkpointFile.FullName, overwrite: true); // a checkpoint is replaced whole or not at all
    }

    /// <summary>The rows, each with the features <paramref name="pointInTime"/>'s manifest adds (name and value as it would have been served then), if any.</summary>
    private static async IAsyncEnumerable<(TrainingRow Row, IReadOnlyList<KeyValuePair<string, float>> Added)> Rows(
        IAsyncEnumerable<TrainingRow> rows, PointInTimeFeatures? pointInTime, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (pointInTime is null)
        {
            await foreach (var row in rows.WithCancellation(cancellationToken))
            {
                yield return (row, []);
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

            yield return (filled.Row, added);
        }
    }

    private static string Json(TrainingRow row, IReadOnlyList<KeyValuePair<string, float>> added)
    {
        var e = row.Row.Entry;
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
            if (row.Label is { } label)
            {
                w.WriteNumber("label", label);
                w.WriteString("observedAt", row.ObservedAt!.Value);
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
            if (added.Count > 0)
            {
                w.WritePropertyName("pointInTimeFeatures");
                Serving.Mirror.MirrorEventJson.WriteFeatures(w, added);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A float as the model log writes it (round-trip form), so exported values equal served ones byte for byte.</summary>
    private static string F(float f) => f.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The CSV columns, fixed by the first row: its score count, feature names and the names of the features a <c>--features</c> manifest adds.</summary>
    internal sealed record Columns(int Scores, IReadOnlyList<string> Features, IReadOnlyList<string> Added)
    {
        public static Columns Of(TrainingRow row, IReadOnlyList<KeyValuePair<string, float>> added) =>
            new(row.Row.Entry.Scores.Length, [.. row.Row.Entry.Features.Select(f => f.Key)], [.. added.Select(f => f.Key)]);

        public bool Fits(TrainingRow row, IReadOnlyList<KeyValuePair<string, float>> added) =>
            row.Row.Entry.Scores.Length == Scores && row.Row.Entry.Features.Select(f => f.Key).SequenceEqual(Features, StringComparer.Ordinal)
            && added.Select(f => f.Key).SequenceEqual(Added, StringComparer.Ordinal);

        public string Header() => string.Join(",", new[] { "prediction_id", "model", "version", "arm", "served", "predicted_at", "observed_at", "label" }
            .Concat(Scores == 1 ? ["score"] : Enumerable.Range(0, Scores).Select(i => $"score_{i}"))
            .Concat(Features.Select(Quote))
            .Concat(Added.Select(Quote)));

        public string Line(TrainingRow row, IReadOnlyList<KeyValuePair<string, float>> added)
        {
            var e = row.Row.Entry;
            return string.Join(",", new[]
                {
                    e.PredictionId, Quote(e.Model), Quote(e.Version), e.Arm, e.Served ? "true" : "false",
                    e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    row.ObservedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "",
                    row.Label?.ToString("R", CultureInfo.InvariantCulture) ?? "",
                }
                .Concat(e.Scores.Select(F))
                .Concat(e.Features.Concat(added).Select(f => float.IsFinite(f.Value) ? F(f.Value) : "")));
        }

        private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
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
                    w.WriteStartArray("features");
                    foreach (var f in Columns.Features)
                    {
                        w.WriteStringValue(f);
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("added");
                    foreach (var f in Columns.Added)
                    {
                        w.WriteStringValue(f);
                    }

                    w.WriteEndArray();
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
                ? new Columns(r.GetProperty("scores").GetInt32(), [.. f.EnumerateArray().Select(x => x.GetString()!)], [.. r.GetProperty("added").EnumerateArray().Select(x => x.GetString()!)])
                : null;
            return new Checkpoint(r.GetProperty("identity").GetString()!, new ExportPosition(r.GetProperty("hour").GetDateTimeOffset(), r.GetProperty("after").GetString()),
                r.GetProperty("bytes").GetInt64(), r.GetProperty("rows").GetInt64(), r.GetProperty("labelled").GetInt64(), columns);
        }
    }
}
