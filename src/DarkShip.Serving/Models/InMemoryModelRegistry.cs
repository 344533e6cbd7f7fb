using System.Collections.Concurrent;

namespace DarkShip.Serving.Models;

/// <summary>
/// A registry held in process memory. It serves tests and benchmarks, and stands in for the
/// Models table until the storage adapter is configured: it starts empty, so every model is unknown.
/// </summary>
public sealed class InMemoryModelRegistry : IModelRegistry
{
    private readonly ConcurrentDictionary<string, DeployedModel> champions = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="model"/> the champion of its name, replacing any other.</summary>
    public void SetChampion(DeployedModel model) => champions[model.Name] = model;

    /// <inheritdoc />
    public ValueTask<DeployedModel?> FindChampionAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(champions.GetValueOrDefault(name));
}
