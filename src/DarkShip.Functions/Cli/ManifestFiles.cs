using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;

namespace DarkShip.Functions.Cli;

/// <summary>A manifest file given to an operator verb on its own (no model file), checked by <see cref="ModelLoader"/>.</summary>
internal static class ManifestFiles
{
    /// <summary>
    /// The manifest in <paramref name="file"/>, checked against the feature store; <see langword="null"/>,
    /// with every reason written to <paramref name="error"/>, when it cannot be used.
    /// </summary>
    public static async Task<ModelManifest?> ReadAsync(string verb, FileInfo file, IFeatureStore store, TextWriter error, CancellationToken cancellationToken)
    {
        file.Refresh();
        if (!file.Exists)
        {
            await error.WriteLineAsync($"{verb}: {file.FullName} does not exist.");
            return null;
        }

        var (manifest, problems) = await new ModelLoader(store).CheckManifestAsync(await File.ReadAllBytesAsync(file.FullName, cancellationToken), cancellationToken, file.Name);
        if (manifest is null)
        {
            await error.WriteLineAsync($"{verb}: the manifest cannot be used:\n  " + string.Join("\n  ", problems));
        }

        return manifest;
    }
}
