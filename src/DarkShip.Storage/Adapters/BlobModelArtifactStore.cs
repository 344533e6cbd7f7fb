using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using DarkShip.Serving.Registry;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// Model files and manifests in the <c>models</c> container (<c>{model}/{version}/model.json</c> and
/// <c>manifest.json</c>) on Azure.Storage.Blobs. Each upload stores its SHA-256 as metadata; each
/// download is hashed and refused unless it matches the SHA-256 the registry holds, before anyone
/// uses the bytes. Small files (manifests, read again by every evaluation and export) are kept with
/// their ETag and revalidated with <c>If-None-Match</c>: an unchanged file costs a 304, not its bytes.
/// </summary>
public sealed class BlobModelArtifactStore(Lazy<BlobContainerClient> lazyContainer) : IModelArtifactStore
{
    /// <summary>A store on <paramref name="container"/>.</summary>
    public BlobModelArtifactStore(BlobContainerClient container)
        : this(new Lazy<BlobContainerClient>(container))
    {
    }

    /// <summary>The container's name.</summary>
    public const string ContainerName = "models";

    /// <summary>The metadata entry holding a blob's lower-case hex SHA-256.</summary>
    public const string Sha256Metadata = "sha256";

    /// <summary>Largest file kept for revalidation; model files are larger and are parsed once by the model cache.</summary>
    public const int MaxCachedBytes = 1024 * 1024;

    private readonly ConcurrentDictionary<string, (ETag ETag, string Sha256, byte[] Content)> revalidated = new(StringComparer.Ordinal);

    private BlobContainerClient Container => lazyContainer.Value;

    /// <summary>Creates the container if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ValidatePath(path);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        await Container.GetBlobClient(path).UploadAsync(
            BinaryData.FromBytes(content),
            new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string> { [Sha256Metadata] = sha256 },
            },
            cancellationToken).ConfigureAwait(false);
        revalidated.TryRemove(path, out _);
        return sha256;
    }

    /// <inheritdoc />
    public async Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default)
    {
        ValidatePath(path);
        var known = revalidated.TryGetValue(path, out var kept) && kept.Sha256.Equals(sha256, StringComparison.OrdinalIgnoreCase) ? kept : default;
        BlobDownloadResult download;
        try
        {
            var response = await Container.GetBlobClient(path).DownloadContentAsync(
                new BlobDownloadOptions { Conditions = known.Content is null ? null : new BlobRequestConditions { IfNoneMatch = known.ETag } },
                cancellationToken).ConfigureAwait(false);
            if (response.GetRawResponse().Status == 304 && known.Content is not null)
            {
                return known.Content;
            }

            download = response.Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ModelArtifactException($"'{Container.Name}/{path}' does not exist");
        }

        var content = download.Content.ToArray();
        var actual = Convert.ToHexStringLower(SHA256.HashData(content));
        if (!actual.Equals(sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelArtifactException($"'{Container.Name}/{path}' is not the registered file: it hashes to SHA-256 {actual}, not the registered {sha256}; refusing the download.");
        }

        if (content.Length <= MaxCachedBytes)
        {
            revalidated[path] = (download.Details.ETag, actual, content);
        }

        return content;
    }

    /// <summary>Blob names DarkShip writes: 1 to 1024 characters, no empty, '.' or '..' segments, no control characters.</summary>
    /// <exception cref="ArgumentException">The path is not one.</exception>
    private static void ValidatePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Length > 1024 || path.Split('/').Any(s => s is "" or "." or "..") || path.Any(char.IsControl))
        {
            throw new ArgumentException($"'{path}' is not a blob name DarkShip writes: 1 to 1024 characters, no empty, '.' or '..' segments, no control characters.", nameof(path));
        }
    }
}
