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
    /// Replaces the rows of <paramref name="versions"/> (all of one model) together, if each still has
    /// the <see cref="ModelVersion.ETag"/> it was read with: all are written or none.
    /// <see langword="false"/> when another change got there first.
    /// </summary>
    Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a model's promotion rules if they still have <paramref name="rules"/>' <see cref="PromotionRules.ETag"/>
    /// (<see langword="null"/>: none stored yet); <see langword="false"/> when another change got there first.
    /// </summary>
    Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default);
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

/// <summary>The plain read most callers want.</summary>
public static class ModelRegistryReads
{
    /// <summary>The whole registry as it is now.</summary>
    public static async Task<RegistrySnapshot> ReadAsync(this IModelRegistry registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return await registry.ReadIfChangedAsync(null, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{registry.GetType().Name} answered a read with no known revision with 'unchanged'.");
    }
}
