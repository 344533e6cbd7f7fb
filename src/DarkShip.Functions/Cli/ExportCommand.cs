using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DarkShip.Serving.Export;
using DarkShip.Serving.Predictions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship export</c>: a training set from the model log, every logged prediction of a time range
/// with the features exactly as served and its outcome. Streams; shows progress on stderr; an
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
        var command = new Command("export", "Write a training set from the model log: features as served, labels from outcomes; resumable.")
        {
            model, from, to, version, format, output, dropUnlabelled, overwrite, settings,
        };
        command.SetAction(async (r, ct) =>
        {
            var error = r.InvocationConfiguration.Error;
            Hosting.StorageAccount account;
            try
            {
                account = CliSettings.Storage(r.GetValue(settings)!);
            }
            catch (InvalidOperationException e)
            {
                await error.WriteLineAsync($"export: {e.Message}");
                return 2;
            }

            var range = new ExportRange(r.GetValue(model)!, ToUtc(r.GetValue(from)), ToUtc(r.GetValue(to)), r.GetValue(version), !r.GetValue(dropUnlabelled));
            var exporter = new TrainingSetExporter(account.PredictionLog(), account.Outcomes());
            return await ExportCli.RunAsync(exporter, range, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(overwrite), error, ct);
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

    public static async Task<int> RunAsync(TrainingSetExporter exporter, ExportRange range, string format, FileInfo output, bool overwrite, TextWriter progress, CancellationToken cancellationToken)
    {
        if (range.To <= range.From)
        {
            await progress.WriteLineAsync("export: --to must be after --from.");
            return 2;
        }

        output.Refresh();
        var checkpointFile = new FileInfo(output.FullName + ".checkpoint");
        var identity = $"{range.Model}|{range.From:O}|{range.To:O}|{range.Version}|{range.KeepUnlabelled}|{format}";
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
            await foreach (var row in exporter.ReadAsync(range, position, cancellationToken))
            {
                if (format == "csv")
                {
                    if (columns is null)
                    {
                        columns = Columns.Of(row);
                        await writer.WriteLineAsync(columns.Header());
                    }

                    if (!columns.Fits(row))
                    {
                        await progress.WriteLineAsync($"export: version {row.Row.Entry.Version} has other features than the first rows; export one --version at a time, or use --format jsonl.");
                        await SaveAsync(writer, file, checkpointFile, identity, position!, rows, labelled, columns);
                        return 2;
                    }

                    await writer.WriteLineAsync(columns.Line(row));
                }
                else
                {
                    await writer.WriteLineAsync(Json(row));
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

    private static string Json(TrainingRow row)
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
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A float as the model log writes it (round-trip form), so exported values equal served ones byte for byte.</summary>
    private static string F(float f) => f.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The CSV columns, fixed by the first row: its score count and feature names.</summary>
    internal sealed record Columns(int Scores, IReadOnlyList<string> Features)
    {
        public static Columns Of(TrainingRow row) => new(row.Row.Entry.Scores.Length, [.. row.Row.Entry.Features.Select(f => f.Key)]);

        public bool Fits(TrainingRow row) =>
            row.Row.Entry.Scores.Length == Scores && row.Row.Entry.Features.Select(f => f.Key).SequenceEqual(Features, StringComparer.Ordinal);

        public string Header() => string.Join(",", new[] { "prediction_id", "model", "version", "arm", "served", "predicted_at", "observed_at", "label" }
            .Concat(Scores == 1 ? ["score"] : Enumerable.Range(0, Scores).Select(i => $"score_{i}"))
            .Concat(Features.Select(Quote)));

        public string Line(TrainingRow row)
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
                .Concat(e.Features.Select(f => float.IsFinite(f.Value) ? F(f.Value) : "")));
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
                ? new Columns(r.GetProperty("scores").GetInt32(), [.. f.EnumerateArray().Select(x => x.GetString()!)])
                : null;
            return new Checkpoint(r.GetProperty("identity").GetString()!, new ExportPosition(r.GetProperty("hour").GetDateTimeOffset(), r.GetProperty("after").GetString()),
                r.GetProperty("bytes").GetInt64(), r.GetProperty("rows").GetInt64(), r.GetProperty("labelled").GetInt64(), columns);
        }
    }
}
