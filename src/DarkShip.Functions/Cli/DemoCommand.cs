using System.CommandLine;
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
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var dir = result.GetValue(folder)!;
            var account = CliSettings.Storage(result.GetValue(settings)!);
            var store = account.FeatureStore();
            foreach (var (group, file, key) in new[] { ("consumer", "consumer.csv", "consumer_id"), ("store", "store.csv", "store_id") })
            {
                var code = await FeaturesCommand.IngestAsync(
                    new IngestOptions(group, new FileInfo(Path.Combine(dir.FullName, file)), key, "ts", SkipBadRows: false),
                    store, TimeProvider.System, output, error, cancellationToken);
                if (code != 0)
                {
                    return code;
                }
            }

            var registry = account.Registry();
            var artifacts = account.Artifacts();
            await registry.EnsureCreatedAsync(cancellationToken);
            await artifacts.EnsureCreatedAsync(cancellationToken);
            await account.PredictionLog().EnsureCreatedAsync(cancellationToken);
            var added = await RegisterChampionAsync(registry, artifacts, "fraud", "1", Path.Combine(dir.FullName, "fraud"), TimeProvider.System, cancellationToken);
            await output.WriteLineAsync(added ? "Registered fraud version 1 as champion." : "fraud version 1 is already registered.");
            return 0;
        });
        return new Command("demo", "The demo data and model.") { seed };
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
