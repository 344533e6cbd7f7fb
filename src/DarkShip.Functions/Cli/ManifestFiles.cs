using DarkShip.Scoring;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;

namespace DarkShip.Functions.Cli;

/// <summary>A manifest file given to an operator verb, read and held against its model and the feature store.</summary>
internal static class ManifestFiles
{
    /// <summary>
    /// The manifest in <paramref name="file"/>, checked against <paramref name="model"/> (when given) and
    /// the feature store; <see langword="null"/>, with every reason written to <paramref name="error"/>, when it cannot be used.
    /// </summary>
    public static async Task<ModelManifest?> ReadAsync(string verb, FileInfo file, IModel? model, IFeatureStore store, TextWriter error, CancellationToken cancellationToken)
    {
        file.Refresh();
        if (!file.Exists)
        {
            await error.WriteLineAsync($"{verb}: {file.FullName} does not exist.");
            return null;
        }

        ModelManifest manifest;
        try
        {
            manifest = ManifestReader.Parse(await File.ReadAllBytesAsync(file.FullName, cancellationToken));
        }
        catch (ManifestException e)
        {
            await error.WriteLineAsync($"{verb}: {file.Name} is not a valid manifest:\n  " + string.Join("\n  ", e.Errors));
            return null;
        }

        var schemas = new Dictionary<string, FeatureGroupSchema?>(StringComparer.Ordinal);
        foreach (var group in manifest.Groups)
        {
            schemas[group.Name] = await store.GetSchemaAsync(group.Name, cancellationToken);
        }

        var problems = model is null ? ManifestValidator.ValidateFeatures(manifest, schemas) : ManifestValidator.Validate(manifest, model, schemas);
        if (problems.Count > 0)
        {
            await error.WriteLineAsync($"{verb}: {file.Name} cannot be used:\n  " + string.Join("\n  ", problems));
            return null;
        }

        return manifest;
    }
}
