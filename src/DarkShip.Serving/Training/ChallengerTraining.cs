using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Scoring;
using DarkShip.Scoring.MLNet;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Serving.Training;

/// <summary>What to train.</summary>
/// <param name="TrainingSetName">How problems name the training set (its file name).</param>
/// <param name="TrainingSet">A CSV as <c>darkship export</c> writes it: a header, the manifest's features by name, a label column.</param>
/// <param name="Manifest">The manifest the model is trained for (its features, output and classes).</param>
/// <param name="Trainer">Which ML.NET trainer.</param>
/// <param name="LabelColumn">The label's column (default <c>label</c>).</param>
/// <param name="ValidationFraction">The share of labelled rows held out for the metrics, in [0, 0.9].</param>
/// <param name="Seed">Seeds the split and the trainer.</param>
public sealed record TrainRequest(string TrainingSetName, TextReader TrainingSet, ReadOnlyMemory<byte> Manifest, TrainerKind Trainer, string LabelColumn = "label", double ValidationFraction = 0.2, int Seed = 7);

/// <summary>How a training run ended.</summary>
public abstract record TrainingOutcome
{
    private TrainingOutcome()
    {
    }

    /// <summary>The inputs cannot train a model; every reason, each a line an operator can act on.</summary>
    public sealed record BadInput(IReadOnlyList<string> Problems) : TrainingOutcome;

    /// <summary>A model and the manifest to register it with.</summary>
    /// <param name="Model">The ML.NET model file.</param>
    /// <param name="Manifest">The manifest: the input's, with <c>format: mlnet</c>, no version (registration gives the next), and the training baseline.</param>
    /// <param name="TrainingRows">Rows trained on.</param>
    /// <param name="ValidationRows">Rows held out.</param>
    /// <param name="Unlabelled">Rows left out for having no label.</param>
    /// <param name="Validation">The held-out rows' metrics as DarkShip computes them for promotion, scored through the serving path; null without a validation share.</param>
    public sealed record Trained(byte[] Model, byte[] Manifest, int TrainingRows, int ValidationRows, long Unlabelled, OutcomeMetrics? Validation) : TrainingOutcome;
}

/// <summary>
/// <c>darkship train</c>'s use case: an ML.NET challenger trained on a training set <c>darkship export</c>
/// wrote, for a manifest, so that export → train → register → shadow → promote is one CLI. The trained
/// model is loaded back through <see cref="ModelLoader"/> (the serving path) before anything is written,
/// and the held-out rows are scored by it.
/// </summary>
public static class ChallengerTraining
{
    private const int MaxReported = 20;

    public static TrainingOutcome Train(TrainRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ModelManifest manifest;
        try
        {
            manifest = ManifestReader.Parse(request.Manifest.Span);
        }
        catch (ManifestException e)
        {
            return new TrainingOutcome.BadInput([.. e.Errors.Select(error => $"manifest: {error}")]);
        }

        if (request.ValidationFraction is < 0 or > 0.9 || double.IsNaN(request.ValidationFraction))
        {
            return new TrainingOutcome.BadInput([$"--validation-fraction: {request.ValidationFraction.ToString(CultureInfo.InvariantCulture)} is not in [0, 0.9]"]);
        }

        var problems = new List<string>();
        var (rows, labels, unlabelled) = Read(request, manifest, problems, cancellationToken);
        if (problems.Count > 0)
        {
            return new TrainingOutcome.BadInput(problems);
        }

        var validationCount = (int)Math.Round(rows.Count * request.ValidationFraction);
        if (rows.Count == 0 || rows.Count - validationCount < 1 || (request.ValidationFraction > 0 && validationCount < 1))
        {
            return new TrainingOutcome.BadInput([$"{request.TrainingSetName}: {rows.Count} labelled rows{(unlabelled > 0 ? $" ({unlabelled} without a label)" : "")}: too few to train{(request.ValidationFraction > 0 ? " and validate" : "")} on"]);
        }

        // A seeded shuffle, then the first share held out: the same file and seed, the same split.
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(request.Seed).Shuffle(order);
        var validation = order[..validationCount];
        var training = order[validationCount..];
        var trainRows = training.Select(i => rows[i]).ToList();
        var trainLabels = training.Select(i => labels[i]).ToList();

        var signature = ModelLoader.Signature(manifest);
        var zip = MLNetTrainer.Train(signature, trainRows, trainLabels, request.Trainer, request.Seed, cancellationToken);
        var trained = manifest with { Format = ModelManifest.MLNet, Version = null };
        var model = ModelLoader.Compile(zip, trained);

        var width = model.GetOutputCount(OutputKind.Transformed);
        float[] Score(float[] row)
        {
            var output = new float[width];
            model.Predict(row, output);
            return output;
        }

        var metrics = validation.Length == 0 ? null : OutcomeMetrics.From(manifest.Output, [.. validation.Select(i => Score(rows[i]))], [.. validation.Select(i => (double)labels[i])], manifest.Decision?.Threshold ?? 0.5);
        var predictions = manifest.Output == ModelOutput.Multiclass ? null : trainRows.Select(r => Score(r)[0]).ToList();
        var baseline = TrainingBaseline.Json(manifest, trainRows, trainLabels, predictions);
        return new TrainingOutcome.Trained(zip, ManifestFor(request.Manifest, baseline), trainRows.Count, validation.Length, unlabelled, metrics);
    }

    /// <summary>The input manifest as written, with the ML.NET format, no version and the new baseline.</summary>
    private static byte[] ManifestFor(ReadOnlyMemory<byte> input, string baseline)
    {
        var node = JsonNode.Parse(Encoding.UTF8.GetString(input.Span), documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        node.Remove("version");
        node.Remove("baseline");
        node["format"] = ModelManifest.MLNet;
        node["baseline"] = JsonNode.Parse(baseline);
        return Encoding.UTF8.GetBytes(node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static (List<float[]> Rows, List<float> Labels, long Unlabelled) Read(TrainRequest request, ModelManifest manifest, List<string> problems, CancellationToken cancellationToken)
    {
        var rows = new List<float[]>();
        var labels = new List<float>();
        long unlabelled = 0;
        int[]? columns = null;
        var labelColumn = -1;
        var plan = new FeaturePlan(manifest);
        foreach (var record in CsvRecords.Read(request.TrainingSet))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record.Error is not null)
            {
                Report(problems, $"{request.TrainingSetName} line {record.Line}: {record.Error}");
                continue;
            }

            if (columns is null)
            {
                var header = record.Fields.Select(f => f.Trim()).ToList();
                columns = [.. manifest.Features.Select(f => header.IndexOf(f.Name))];
                labelColumn = header.IndexOf(request.LabelColumn);
                var absent = manifest.Features.Where((_, i) => columns[i] < 0).Select(f => f.Name).ToList();
                if (absent.Count > 0)
                {
                    problems.Add($"{request.TrainingSetName}: no column for the manifest's feature{(absent.Count > 1 ? "s" : "")} {string.Join(", ", absent)} (the header names {string.Join(", ", header.Take(12))}{(header.Count > 12 ? ", …" : "")})");
                }

                if (labelColumn < 0)
                {
                    problems.Add($"{request.TrainingSetName}: no label column '{request.LabelColumn}' (export writes 'label'; --label names another)");
                }

                if (problems.Count > 0)
                {
                    return (rows, labels, 0);
                }

                continue;
            }

            var fields = record.Fields;
            if (labelColumn >= fields.Length || fields[labelColumn].Length == 0)
            {
                unlabelled++;
                continue;
            }

            var row = new float[columns.Length];
            var bad = false;
            for (var i = 0; i < columns.Length && !bad; i++)
            {
                var cell = columns[i] < fields.Length ? fields[columns[i]].Trim() : "";
                if (!TryCell(plan, i, cell, out row[i], out var error))
                {
                    Report(problems, $"{request.TrainingSetName} line {record.Line}: '{manifest.Features[i].Name}' ({Shorten(cell)}) {error}");
                    bad = true;
                }
            }

            if (!bad && Label(manifest, fields[labelColumn].Trim()) is { } label)
            {
                rows.Add(row);
                labels.Add(label);
            }
            else if (!bad)
            {
                Report(problems, $"{request.TrainingSetName} line {record.Line}: label '{Shorten(fields[labelColumn])}' {LabelRule(manifest)}");
            }
        }

        if (columns is null)
        {
            problems.Add($"{request.TrainingSetName}: empty; a header and labelled rows are needed");
        }
        else if (problems.Count == 0 && rows.Count == 0)
        {
            problems.Add($"{request.TrainingSetName}: no labelled rows ({unlabelled} rows without a label): join outcomes before training");
        }

        return (rows, labels, unlabelled);
    }

    /// <summary>A cell as the feature's float: empty is missing; numbers (codes for categories, 1/0 for booleans), or a category's label, or true/false.</summary>
    private static bool TryCell(FeaturePlan plan, int column, string cell, out float value, out string? error)
    {
        error = null;
        if (cell.Length == 0)
        {
            value = float.NaN;
            return true;
        }

        object given = double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number
            : bool.TryParse(cell, out var flag) ? flag
            : cell;
        if (given is double code && plan.Features[column].Type == ManifestFeatureType.Category)
        {
            var known = plan.Features[column].Categories!.Count;
            value = code >= 0 && code < known && code == Math.Floor(code) ? (float)code : float.NaN;
            return true;
        }

        return plan.TryEncode(column, given, out value, out error);
    }

    private static float? Label(ModelManifest manifest, string cell)
    {
        if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var label) || !double.IsFinite(label))
        {
            return manifest.Output == ModelOutput.Multiclass && manifest.Classes?.ToList().IndexOf(cell) is >= 0 and var index ? index : null;
        }

        return manifest.Output switch
        {
            ModelOutput.Probability => label is 0 or 1 ? (float)label : null,
            ModelOutput.Multiclass => label >= 0 && label == Math.Floor(label) && (manifest.Classes is null || label < manifest.Classes.Count) ? (float)label : null,
            _ => (float)label,
        };
    }

    private static string LabelRule(ModelManifest manifest) => manifest.Output switch
    {
        ModelOutput.Probability => "is not 0 or 1",
        ModelOutput.Multiclass => manifest.Classes is { } classes ? $"is not a class index 0–{classes.Count - 1} or one of {string.Join(", ", classes)}" : "is not a class index",
        _ => "is not a finite number",
    };

    private static void Report(List<string> problems, string problem)
    {
        if (problems.Count < MaxReported)
        {
            problems.Add(problem);
        }
        else if (problems.Count == MaxReported)
        {
            problems.Add("… more bad rows not shown");
        }
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
