using System.CommandLine;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship demo seed</c>: what <c>./run.sh</c> runs before it serves. Ingests the demo's consumer
/// and store features, registers the demo <c>fraud</c> model (trained by demo/generate_demo.py with
/// real XGBoost) as champion, version 1, and its challenger, version 2, in the shadow at 1 % with demo
/// promotion rules small enough to watch it climb. Every step goes through the ladder, so
/// <c>models history fraud</c> shows it. Running it again changes nothing that is already there.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's promotion rules: the defaults, with sample counts a laptop reaches in minutes.</summary>
    public static readonly IReadOnlyList<string> DemoRules = ["minSamples=200", "minGuardrailSamples=50"];

    public static Command Create()
    {
        var folder = new Option<DirectoryInfo>("--folder") { Description = "The demo folder.", DefaultValueFactory = _ => new DirectoryInfo("demo") };
        var settings = CliSettings.Option();
        var seed = new Command("seed", "Load the demo features, register the demo fraud model as champion and its challenger in the shadow.") { folder, settings };
        seed.SetAction(async (result, cancellationToken) =>
        {
            var account = CliSettings.Storage(result.GetValue(settings)!);
            return await SeedAsync(account.FeatureStore(), account, result.GetValue(folder)!, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken);
        });
        return new Command("demo", "The demo data and model.") { seed };
    }

    /// <summary>
    /// Ingests the demo's consumer and store features into <paramref name="features"/>, registers the
    /// demo fraud model as champion (version 1) and, when the folder has it, the challenger (version 2)
    /// in the shadow at 1 %; the exit code of the first failure, else 0.
    /// </summary>
    public static async Task<int> SeedAsync(IFeatureWriter features, IDemoModels models, DirectoryInfo folder, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        foreach (var (group, key) in new[] { ("consumer", "consumer_id"), ("store", "store_id") })
        {
            var code = await FeaturesCommand.IngestAsync(
                new IngestOptions(group, new FileInfo(Path.Combine(folder.FullName, group + ".csv")), key, "ts", SkipBadRows: false),
                features, TimeProvider.System, output, error, cancellationToken);
            if (code != 0)
            {
                return code;
            }
        }

        var (registry, artifacts, events) = await models.PrepareAsync(cancellationToken);
        var ladder = new ModelLadder(registry, events, TimeProvider.System, NullLogger<ModelLadder>.Instance);
        var actor = new LadderActor("demo seed", "the demo's model");
        if (await RegisterAsync(ladder, registry, artifacts, "fraud", "1", Path.Combine(folder.FullName, "fraud"), actor, cancellationToken))
        {
            await ladder.ApplyAsync(new LadderCommand.Promote("fraud", "1"), actor, cancellationToken);
            await output.WriteLineAsync("Registered fraud version 1 as champion.");
        }

        var challenger = Path.Combine(folder.FullName, "fraud-challenger");
        if (Directory.Exists(challenger) && await RegisterAsync(ladder, registry, artifacts, "fraud", "2", challenger, actor with { Reason = "the demo's challenger" }, cancellationToken))
        {
            await ladder.ApplyAsync(new LadderCommand.Shadow("fraud", "2", 1), actor with { Reason = "the demo's challenger" }, cancellationToken);
            var rules = DemoRules.Aggregate((await registry.ReadIfChangedAsync(null, cancellationToken))!.RulesFor("fraud"), (r, set) => r.With(set));
            await registry.TrySetRulesAsync("fraud", rules, cancellationToken);
            await output.WriteLineAsync($"Registered fraud version 2 in the shadow at 1 % (demo rules: {string.Join(", ", DemoRules)}).");
        }

        return 0;
    }

    /// <summary>Uploads a model folder's model.json and manifest.json and registers them; <see langword="false"/> when that version exists.</summary>
    public static async Task<bool> RegisterAsync(ModelLadder ladder, IModelRegistry registry, IModelArtifactStore artifacts, string name, string version, string folder, LadderActor actor, CancellationToken cancellationToken)
    {
        var known = await registry.ReadIfChangedAsync(null, cancellationToken);
        if (known?.Versions.Any(v => v.Name == name && v.Version == version) == true)
        {
            return false; // never overwrite a registered version's files
        }

        var modelPath = BlobModelArtifactStore.ModelPath(name, version);
        var manifestPath = BlobModelArtifactStore.ManifestPath(name, version);
        var modelSha = await artifacts.UploadAsync(modelPath, await File.ReadAllBytesAsync(Path.Combine(folder, "model.json"), cancellationToken), cancellationToken);
        var manifestSha = await artifacts.UploadAsync(manifestPath, await File.ReadAllBytesAsync(Path.Combine(folder, "manifest.json"), cancellationToken), cancellationToken);
        var outcome = await ladder.RegisterAsync(
            new ModelVersion(name, version, ModelStage.Registered, 0, modelPath, modelSha, manifestPath, manifestSha, DateTimeOffset.MinValue),
            actor, cancellationToken);
        return outcome is LadderOutcome.Changed;
    }
}

/// <summary>Where the demo registers its model: the storage account, or in-memory stores for the benchmark.</summary>
internal interface IDemoModels
{
    /// <summary>Creates what the registry needs and returns it.</summary>
    Task<(IModelRegistry Registry, IModelArtifactStore Artifacts, IModelEventLog Events)> PrepareAsync(CancellationToken cancellationToken);
}
