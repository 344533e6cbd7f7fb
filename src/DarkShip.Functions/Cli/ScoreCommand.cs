using System.CommandLine;
using System.Globalization;
using DarkShip.Scoring;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship score --model m.json|m.zip|m.onnx --input rows.csv|rows.jsonl [--manifest manifest.json] [--margin] [--output out.jsonl] [--skip-bad-rows]</c>:
/// scores a file offline, one output line per input row, streaming. The format is read from the file; rows
/// are in the model's inputs (its own, or the manifest's features when one is given). Every row is checked first: a bad
/// row is reported on stderr with its line number and nothing is written (exit 2), unless
/// <c>--skip-bad-rows</c> says to write <c>null</c> for it so outputs stay aligned with inputs (exit 1).
/// Exit codes: 0 all rows scored, 1 some rows were bad and skipped, 2 the model, the files or a row could not be used.
/// </summary>
internal static class ScoreCommand
{
    /// <summary>Most values (rows × features) scored in one batch: chunks stay near 16 MiB however wide the model.</summary>
    private const int ChunkValues = 4 << 20;

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The model: XGBoost JSON (Booster.save_model(\"m.json\")), ML.NET .zip (MLContext.Model.Save with its input schema) or ONNX; the format is read from the file.", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "Rows to score: .csv (empty cell = missing, optional header of input names) or .jsonl (arrays in input order or objects keyed by input name; null = missing; a category's label as text).", Required = true };
        var margin = new Option<bool>("--margin") { Description = "Write raw margins instead of the objective's transformed output." };
        var output = new Option<FileInfo?>("--output") { Description = "Where to write one JSON value per row (default: standard output)." };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "Write null for bad rows (exit 1) instead of writing nothing (exit 2)." };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "A manifest to bind the model to: rows are then its features (by name, in its order) and its categories' labels are known — needed for an ONNX model with text inputs." };
        var command = new Command("score", "Score a file of rows with a model, offline.") { model, input, margin, output, skip, manifest };
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(model)!, result.GetValue(input)!, result.GetValue(margin), result.GetValue(output), result.GetValue(skip),
            result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken, result.GetValue(manifest)));
        return command;
    }

    public static async Task<int> RunAsync(FileInfo modelFile, FileInfo inputFile, bool margin, FileInfo? outputFile, bool skipBadRows, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, FileInfo? manifestFile = null)
    {
        IModel model;
        try
        {
            var manifest = manifestFile is null ? null : ManifestReader.Parse(await File.ReadAllBytesAsync(manifestFile.FullName, cancellationToken));
            model = ModelLoader.Compile(await File.ReadAllBytesAsync(modelFile.FullName, cancellationToken), manifest);
        }
        catch (ManifestException e)
        {
            await stderr.WriteLineAsync($"error: {manifestFile!.Name}: {string.Join("\n  ", e.Errors)}");
            return 2;
        }
        catch (ModelFormatException e)
        {
            await stderr.WriteLineAsync($"error: {modelFile.Name}: {string.Join("\n  ", e.Problems)}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: {modelFile.FullName} cannot be read: {e.Message}");
            return 2;
        }

        if (margin && !model.HasMargin)
        {
            await stderr.WriteLineAsync($"error: {modelFile.Name}: this model gives no margin (an ONNX model's outputs are probabilities; an ML.NET regression or multiclass model has one output); score without --margin");
            return 2;
        }

        var csv = inputFile.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase);
        if (!csv && !inputFile.Extension.Equals(".jsonl", StringComparison.OrdinalIgnoreCase) && !inputFile.Extension.Equals(".ndjson", StringComparison.OrdinalIgnoreCase))
        {
            await stderr.WriteLineAsync($"error: {inputFile.Name}: the input must be .csv or .jsonl");
            return 2;
        }

        if (!inputFile.Exists)
        {
            await stderr.WriteLineAsync($"error: {inputFile.FullName} does not exist");
            return 2;
        }

        if (outputFile is not null && outputFile.Directory is { Exists: false } folder)
        {
            await stderr.WriteLineAsync($"error: the folder of --output, {folder.FullName}, does not exist");
            return 2;
        }

        if (!skipBadRows && await CheckRowsAsync(model, inputFile, csv, stderr, cancellationToken) is { } refused)
        {
            return refused;
        }

        var kind = margin ? OutputKind.Margin : OutputKind.Transformed;
        var width = model.GetOutputCount(kind);
        StreamReader reader;
        TextWriter writer;
        try
        {
            reader = new StreamReader(inputFile.FullName);
            writer = outputFile is null ? stdout : new StreamWriter(outputFile.FullName, append: false) { AutoFlush = false };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return 2;
        }

        using var input = reader;
        long scored = 0, bad = 0;
        var chunkRows = Math.Clamp(ChunkValues / Math.Max(model.FeatureCount, width), 1, 1024);
        try
        {
            var chunk = new List<InputRow>(chunkRows);
            var rows = new float[chunkRows * model.FeatureCount];
            var results = new float[chunkRows * width];
            foreach (var row in RowFileReader.Read(reader, csv, model.Inputs))
            {
                cancellationToken.ThrowIfCancellationRequested();
                chunk.Add(row);
                if (chunk.Count == chunkRows)
                {
                    (var s, var b) = await FlushAsync(model, kind, width, chunk, rows, results, writer, stderr);
                    scored += s;
                    bad += b;
                }
            }

            (var s2, var b2) = await FlushAsync(model, kind, width, chunk, rows, results, writer, stderr);
            scored += s2;
            bad += b2;
        }
        catch (InvalidDataException e)
        {
            await stderr.WriteLineAsync($"error: {inputFile.Name} {e.Message}");
            return 2;
        }
        finally
        {
            await writer.FlushAsync(cancellationToken);
            if (outputFile is not null)
            {
                await writer.DisposeAsync();
            }
        }

        await stderr.WriteLineAsync($"scored {scored} rows{(bad > 0 ? $", {bad} bad rows (written as null)" : "")}");
        return bad > 0 ? 1 : 0;
    }

    /// <summary>The first pass: every row read and checked, nothing written. Exit 2 with the bad rows by line, or null when all are good.</summary>
    private static async Task<int?> CheckRowsAsync(IModel model, FileInfo inputFile, bool csv, TextWriter stderr, CancellationToken cancellationToken)
    {
        long rows = 0, bad = 0;
        try
        {
            using var reader = new StreamReader(inputFile.FullName);
            foreach (var row in RowFileReader.Read(reader, csv, model.Inputs))
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows++;
                if (row.Values is null && ++bad <= 20)
                {
                    await stderr.WriteLineAsync($"{inputFile.Name} line {row.Line}: {row.Error}");
                }
            }
        }
        catch (InvalidDataException e)
        {
            await stderr.WriteLineAsync($"error: {inputFile.Name} {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return 2;
        }

        if (bad == 0)
        {
            return null;
        }

        await stderr.WriteLineAsync($"score: {bad} of {rows} rows of {inputFile.Name} are bad; nothing was written. Fix them, or pass --skip-bad-rows to write null for them.");
        return 2;
    }

    private static async Task<(long Scored, long Bad)> FlushAsync(IModel model, OutputKind kind, int width, List<InputRow> chunk, float[] rows, float[] results, TextWriter writer, TextWriter stderr)
    {
        // Score the good rows of the chunk in one batch, then write every row in input order.
        var good = 0;
        foreach (var row in chunk)
        {
            if (row.Values is not null)
            {
                row.Values.CopyTo(rows, good++ * model.FeatureCount);
            }
        }

        model.PredictBatch(rows.AsSpan(0, good * model.FeatureCount), results.AsSpan(0, good * width), kind);
        var next = 0;
        long bad = 0;
        foreach (var row in chunk)
        {
            if (row.Values is null)
            {
                bad++;
                await stderr.WriteLineAsync($"line {row.Line}: {row.Error}");
                await writer.WriteLineAsync("null");
                continue;
            }

            await writer.WriteLineAsync(Format(results.AsSpan(next++ * width, width)));
        }

        chunk.Clear();
        return (good, bad);
    }

    private static string Format(ReadOnlySpan<float> values)
    {
        if (values.Length == 1)
        {
            return Number(values[0]);
        }

        var parts = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            parts[i] = Number(values[i]);
        }

        return "[" + string.Join(",", parts) + "]";
    }

    private static string Number(float v) => float.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";
}
