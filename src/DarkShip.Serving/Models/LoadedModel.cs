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
}

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
