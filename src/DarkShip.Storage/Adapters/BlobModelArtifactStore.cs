using DarkShip.Serving.Registry;
using DarkShip.Storage.Blobs;

namespace DarkShip.Storage.Adapters;

/// <summary>Model files and manifests in the <c>models</c> container: <c>{model}/{version}/model.json</c> and <c>manifest.json</c>.</summary>
public sealed class BlobModelArtifactStore(BlobContainerClient container) : IModelArtifactStore
{
    /// <summary>The container's name.</summary>
    public const string ContainerName = "models";

    /// <summary>Where a version's model file goes.</summary>
    public static string ModelPath(string model, string version) => $"{model}/{version}/model.json";

    /// <summary>Where a version's manifest goes.</summary>
    public static string ManifestPath(string model, string version) => $"{model}/{version}/manifest.json";

    /// <summary>Creates the container if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => container.CreateIfNotExistsAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var stored = await container.UploadAsync(path, content, "application/json", cancellationToken).ConfigureAwait(false);
        return stored.Sha256 ?? throw new InvalidOperationException($"'{path}' was stored without its SHA-256");
    }

    /// <inheritdoc />
    public async Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            var download = await container.DownloadAsync(path, sha256, cancellationToken: cancellationToken).ConfigureAwait(false);
            return download?.Content ?? throw new ModelArtifactException($"'{container.Name}/{path}' does not exist");
        }
        catch (BlobIntegrityException e)
        {
            throw new ModelArtifactException($"'{container.Name}/{path}' is not the registered file: {e.Message}");
        }
    }
}
