using System.CommandLine;
using DarkShip.Serving.Features;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship demo seed</c>: what <c>./run.sh</c> runs before it serves. Ingests the demo's consumer
/// and store features and registers the demo <c>fraud</c> model (trained by demo/generate_demo.py with
/// real XGBoost) as champion, version 1. Running it again changes nothing that is already there.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var folder = new Option<DirectoryInfo>("--folder") { Description = "The demo folder.", DefaultValueFactory = _ => new DirectoryInfo("demo") };
        var settings = new Option<FileInfo>("--settings") { Description = "local.settings.json naming the storage account.", DefaultValueFactory = _ => new FileInfo("local.settings.json") };
        var seed = new Command("seed", "Load the demo features and register the demo fraud model as champion.") { folder, settings };
        seed.SetAction(async (result, cancellationToken) =>
        {
            var account = CliSettings.Storage(result.GetValue(settings)!);
            return await SeedAsync(account.FeatureStore(), account, result.GetValue(folder)!, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken);
        });
        return new Command("demo", "The demo data and model.") { seed };
    }

    /// <summary>
    /// Ingests the demo's consumer and store features into <paramref name="features"/> and registers the
    /// demo fraud model as champion, version 1, in <paramref name="models"/>; the exit code of the first failure, else 0.
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

        var (registry, artifacts) = await models.PrepareAsync(cancellationToken);
        var added = await RegisterChampionAsync(registry, artifacts, "fraud", "1", Path.Combine(folder.FullName, "fraud"), TimeProvider.System, cancellationToken);
        await output.WriteLineAsync(added ? "Registered fraud version 1 as champion." : "fraud version 1 is already registered.");
        return 0;
    }

    /// <summary>Uploads a model folder's model.json and manifest.json and registers them as a champion; <see langword="false"/> when that version exists.</summary>
    public static async Task<bool> RegisterChampionAsync(IModelRegistry registry, IModelArtifactStore artifacts, string name, string version, string folder, TimeProvider time, CancellationToken cancellationToken)
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
        return await registry.TryAddAsync(
            new ModelVersion(name, version, ModelStage.Champion, 100, modelPath, modelSha, manifestPath, manifestSha, time.GetUtcNow()),
            cancellationToken);
    }
}

/// <summary>Where the demo registers its model: the storage account, or in-memory stores for the benchmark.</summary>
internal interface IDemoModels
{
    /// <summary>Creates what the registry needs and returns it.</summary>
    Task<(IModelRegistry Registry, IModelArtifactStore Artifacts)> PrepareAsync(CancellationToken cancellationToken);
}
