using DarkShip.Scoring;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Models;

/// <summary>A registry version compiled and checked, ready to score. Immutable.</summary>
/// <param name="Version">Its registry row.</param>
/// <param name="Manifest">Its manifest.</param>
/// <param name="Model">The compiled model.</param>
/// <param name="Plan">The manifest compiled for the request path.</param>
public sealed record LoadedModel(ModelVersion Version, ModelManifest Manifest, IModel Model, FeaturePlan Plan)
{
    /// <summary>Outputs per row (1, or the class count).</summary>
    public int OutputCount { get; } = Model.GetOutputCount(OutputKind.Transformed);

    /// <summary>The bin edges its monitoring histograms use.</summary>
    public Monitoring.MonitoringEdges Edges { get; } = Monitoring.MonitoringEdges.From(Manifest);
}

/// <summary>Finds what answers a model's traffic: the <see cref="ModelCache"/> in the handler, a fixed set in tests.</summary>
public interface IModelLineups
{
    /// <summary>The model's lineup, or <see langword="null"/> when no version of it is live.</summary>
    ModelLineup? Find(string name);

    /// <summary>Waits until the registry has been read once, at most <paramref name="timeout"/>; <see langword="false"/> on time-out.</summary>
    Task<bool> WaitUntilLoadedAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken);
}

/// <summary>What every consumer of <see cref="IModelLineups"/> that must not run blind calls first.</summary>
public static class ModelLineupsExtensions
{
    /// <summary>
    /// Waits for the first registry read, at most <paramref name="timeout"/>, and throws when it has not
    /// happened: an invocation on an instance that does not know its models yet must fail (so the host
    /// retries it) rather than succeed having done nothing.
    /// </summary>
    /// <exception cref="ModelsNotReadyException">The registry has not been read within <paramref name="timeout"/>.</exception>
    public static async Task EnsureLoadedAsync(this IModelLineups models, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await models.WaitUntilLoadedAsync(timeout, time, cancellationToken).ConfigureAwait(false))
        {
            throw new ModelsNotReadyException($"The model registry has not been read within {timeout.TotalSeconds:0.#} s of asking; this instance is not ready and the invocation fails so that it is delivered again.");
        }
    }
}

/// <summary>The instance has not read the model registry yet (cold start, or the registry is unreachable).</summary>
public sealed class ModelsNotReadyException(string message) : Exception(message);

/// <summary>What answers a model's traffic right now: the champion, an optional experiment and the shadows.</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Champion">Answers live traffic (null only while a model has none).</param>
/// <param name="Experiment">Answers its share of live traffic.</param>
/// <param name="Shadows">Score mirrored traffic.</param>
public sealed record ModelLineup(string Name, LoadedModel? Champion, LoadedModel? Experiment, IReadOnlyList<LoadedModel> Shadows)
{
    /// <summary>Every loaded version of the lineup.</summary>
    public IEnumerable<LoadedModel> All =>
        new[] { Champion, Experiment }.OfType<LoadedModel>().Concat(Shadows);
}
