namespace DarkShip.Serving.Models;

/// <summary>Where the serving path finds which version of a model answers live traffic.</summary>
public interface IModelRegistry
{
    /// <summary>The champion of <paramref name="name"/>, or <see langword="null"/> when the model has none.</summary>
    ValueTask<DeployedModel?> FindChampionAsync(string name, CancellationToken cancellationToken = default);
}
