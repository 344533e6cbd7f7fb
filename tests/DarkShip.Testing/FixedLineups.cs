using DarkShip.Serving.Models;

namespace DarkShip.Testing;

/// <summary>One model's lineup, fixed and already loaded: for scoring with a lineup the registry does not hold.</summary>
public sealed class FixedLineups(ModelLineup lineup) : IModelLineups
{
    /// <inheritdoc />
    public ModelLineup? Find(string name) => name == lineup.Name ? lineup : null;

    /// <inheritdoc />
    public Task<bool> WaitUntilLoadedAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) => Task.FromResult(true);
}
