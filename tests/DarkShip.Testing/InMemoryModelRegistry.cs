using System.Security.Cryptography;

using DarkShip.Serving.Registry;

namespace DarkShip.Testing;

/// <summary>A registry and artifact store in process memory, with the same ETag semantics as the table adapter. For tests and benchmarks.</summary>
public sealed class InMemoryModelRegistry : IModelRegistry, IModelArtifactStore
{
    private readonly Lock gate = new();
    private readonly Dictionary<(string, string), ModelVersion> versions = [];
    private readonly Dictionary<string, byte[]> files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PromotionRules> rules = new(StringComparer.Ordinal);
    private long revision;
    private long etags;

    /// <inheritdoc />
    public Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var current = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.FromResult(current == knownRevision ? null : new RegistrySnapshot(current, [.. versions.Values], new Dictionary<string, PromotionRules>(rules, StringComparer.Ordinal)));
        }
    }

    /// <inheritdoc />
    public Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (!versions.TryAdd((version.Name, version.Version), Stamp(version)))
            {
                return Task.FromResult(false);
            }

            revision++;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> changed, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (changed.Any(v => !versions.TryGetValue((v.Name, v.Version), out var stored) || stored.ETag != v.ETag))
            {
                return Task.FromResult(false);
            }

            foreach (var version in changed)
            {
                versions[(version.Name, version.Version)] = Stamp(version);
            }

            revision++;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> TrySetRulesAsync(string model, PromotionRules set, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (rules.GetValueOrDefault(model)?.ETag != set.ETag)
            {
                return Task.FromResult(false);
            }

            rules[model] = set with { ETag = "r" + (++etags).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            revision++;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            files[path] = content.ToArray();
        }

        return Task.FromResult(Convert.ToHexStringLower(SHA256.HashData(content.Span)));
    }

    /// <inheritdoc />
    public Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default)
    {
        byte[]? content;
        lock (gate)
        {
            content = files.GetValueOrDefault(path);
        }

        if (content is null)
        {
            throw new ModelArtifactException($"'{path}' does not exist");
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(content));
        return actual == sha256 ? Task.FromResult(content) : throw new ModelArtifactException($"'{path}' has SHA-256 {actual}, not the registered {sha256}");
    }

    private ModelVersion Stamp(ModelVersion version) => version with { ETag = "e" + (++etags).ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
