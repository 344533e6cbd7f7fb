using System.CommandLine;
using System.Globalization;
using DarkShip.Scoring.MLNet;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Training;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship train --input train.csv --manifest manifest.json --trainer fasttree|lightgbm|sdca [--label label]
/// [--validation-fraction 0.2] [--seed 7] --output DIR</c>: an ML.NET challenger trained on a training set
/// <c>darkship export</c> wrote. Writes <c>DIR/model.zip</c> and <c>DIR/manifest.json</c> (format mlnet, the
/// training baseline), prints the held-out metrics and the command that registers it. Nothing touches
/// storage. Exit codes: 0 trained, 1 failed, 2 bad input (nothing written).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input") { Description = "The training set: a CSV from `darkship export` (the manifest's features by name, and a label column).", Required = true };
        var manifest = new Option<FileInfo>("--manifest") { Description = "The manifest to train for: its features, output and classes.", Required = true };
        var trainer = new Option<string>("--trainer") { Description = "fasttree, lightgbm or sdca.", DefaultValueFactory = _ => "fasttree" };
        trainer.AcceptOnlyFromAmong("fasttree", "lightgbm", "sdca");
        var label = new Option<string>("--label") { Description = "The label's column.", DefaultValueFactory = _ => "label" };
        var validation = new Option<double>("--validation-fraction") { Description = "The share of labelled rows held out for the metrics (0 to 0.9).", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Seeds the split and the trainer: the same file and seed give the same model.", DefaultValueFactory = _ => 7 };
        var output = new Option<DirectoryInfo>("--output") { Description = "The folder to write model.zip and manifest.json to (made if missing).", Required = true };
        var command = new Command("train", "Train an ML.NET challenger on a training set from `darkship export`.") { input, manifest, trainer, label, validation, seed, output };
        command.SetAction((r, ct) => RunAsync(
            r.GetValue(input)!, r.GetValue(manifest)!, Kind(r.GetValue(trainer)!), r.GetValue(label)!, r.GetValue(validation), r.GetValue(seed), r.GetValue(output)!,
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct));
        return command;
    }

    public static async Task<int> RunAsync(FileInfo input, FileInfo manifestFile, TrainerKind trainer, string label, double validation, int seed, DirectoryInfo output, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        foreach (var file in new[] { input, manifestFile }.Where(f => !File.Exists(f.FullName)))
        {
            await stderr.WriteLineAsync($"train: {file.FullName} does not exist");
            return 2;
        }

        byte[] manifest;
        TrainingOutcome outcome;
        try
        {
            manifest = await File.ReadAllBytesAsync(manifestFile.FullName, cancellationToken);
            using var reader = new StreamReader(input.FullName);
            outcome = ChallengerTraining.Train(new TrainRequest(input.Name, reader, manifest, trainer, label, validation, seed), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"train: {e.Message}");
            return 2;
        }

        if (outcome is TrainingOutcome.BadInput bad)
        {
            await stderr.WriteLineAsync("train: nothing was trained:\n  " + string.Join("\n  ", bad.Problems));
            return 2;
        }

        var trained = (TrainingOutcome.Trained)outcome;
        try
        {
            output.Create();
            await File.WriteAllBytesAsync(Path.Combine(output.FullName, "model.zip"), trained.Model, cancellationToken);
            await File.WriteAllBytesAsync(Path.Combine(output.FullName, "manifest.json"), trained.Manifest, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"train: {output.FullName} cannot be written: {e.Message}");
            return 1;
        }

        var name = ManifestReader.Parse(trained.Manifest).Name;
        await stdout.WriteLineAsync($"trained {trainer.ToString().ToLowerInvariant()} on {trained.TrainingRows} labelled rows{(trained.Unlabelled > 0 ? $" ({trained.Unlabelled} without a label left out)" : "")}; {trained.ValidationRows} held out");
        if (trained.Validation is { } m)
        {
            var kind = ManifestReader.Parse(trained.Manifest).Output;
            var figures = kind switch
            {
                ModelOutput.Probability => $"auc {F(m.Auc)}, logloss {F(m.LogLoss)}",
                ModelOutput.Multiclass => $"accuracy {F(m.Accuracy)}, logloss {F(m.LogLoss)}",
                _ => $"rmse {F(m.Rmse)}, mae {F(m.Mae)}",
            };
            await stdout.WriteLineAsync($"validation: {figures}");
        }

        await stdout.WriteLineAsync($"wrote {Path.Combine(output.FullName, "model.zip")} and manifest.json");
        await stdout.WriteLineAsync($"register it:  darkship models register --name {name} --artifact {Path.Combine(output.FullName, "model.zip")} --manifest {Path.Combine(output.FullName, "manifest.json")}");
        return 0;
    }

    private static TrainerKind Kind(string name) => name switch
    {
        "lightgbm" => TrainerKind.LightGbm,
        "sdca" => TrainerKind.Sdca,
        _ => TrainerKind.FastTree,
    };

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
