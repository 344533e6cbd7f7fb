namespace DarkShip.Serving.Registry;

/// <summary>The registry of model versions and their stages.</summary>
public interface IModelRegistry
{
    /// <summary>
    /// The registry, or <see langword="null"/> when its revision is still <paramref name="knownRevision"/>:
    /// the cheap poll the serving path runs every few seconds.
    /// </summary>
    Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default);

    /// <summary>Adds a new version; <see langword="false"/> when that name and version already exist.</summary>
    Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a version's row if it still has <paramref name="version"/>'s <see cref="ModelVersion.ETag"/>;
    /// <see langword="false"/> when another change got there first.
    /// </summary>
    Task<bool> TryUpdateAsync(ModelVersion version, CancellationToken cancellationToken = default);
}

/// <summary>Model files and manifests, addressed by path and verified by SHA-256.</summary>
public interface IModelArtifactStore
{
    /// <summary>Stores <paramref name="content"/> at <paramref name="path"/>; returns its lower-case hex SHA-256.</summary>
    Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>The file at <paramref name="path"/>, checked against <paramref name="sha256"/>.</summary>
    /// <exception cref="ModelArtifactException">It is missing or its content does not match.</exception>
    Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default);
}

/// <summary>A model file or manifest that cannot be fetched as registered.</summary>
public sealed class ModelArtifactException(string message) : Exception(message);
