namespace DarkShip.Serving.Registry;

/// <summary>Where a model version stands on the ladder.</summary>
public enum ModelStage
{
    /// <summary>Uploaded, serving nothing.</summary>
    Registered,

    /// <summary>Scores a sampled share of mirrored traffic; its answers reach no caller.</summary>
    Shadow,

    /// <summary>Answers a share of live traffic against the champion.</summary>
    Experiment,

    /// <summary>Answers live traffic.</summary>
    Champion,

    /// <summary>Done; kept for the record.</summary>
    Retired,

    /// <summary>Taken off the ladder by a rollback.</summary>
    RolledBack,
}

/// <summary>The order every listing shows a model's versions in: the champion, the experiment, the shadows, then the rest.</summary>
public static class ModelStageOrder
{
    /// <summary>0 for the champion, 1 an experiment, 2 a shadow, 3 anything off the ladder.</summary>
    public static int ListingRank(this ModelStage stage) => stage switch
    {
        ModelStage.Champion => 0,
        ModelStage.Experiment => 1,
        ModelStage.Shadow => 2,
        _ => 3,
    };
}

/// <summary>One version of a model in the registry (the <c>Models</c> table: PK = name, RK = version).</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Version">Its version label.</param>
/// <param name="Stage">Where it stands.</param>
/// <param name="SharePercent">Shadow: the sampled share of mirrored traffic; Experiment: the share of live traffic (0–100).</param>
/// <param name="ArtifactPath">The model file in the <c>models</c> container, e.g. <c>fraud/7/model.json</c>.</param>
/// <param name="ArtifactSha256">Lower-case hex SHA-256 of the model file.</param>
/// <param name="ManifestPath">The manifest in the <c>models</c> container.</param>
/// <param name="ManifestSha256">Lower-case hex SHA-256 of the manifest.</param>
/// <param name="RegisteredAt">When it was registered.</param>
/// <param name="ETag">The registry row's ETag when read; changes go through <c>If-Match</c>.</param>
public sealed record ModelVersion(
    string Name,
    string Version,
    ModelStage Stage,
    double SharePercent,
    string ArtifactPath,
    string ArtifactSha256,
    string ManifestPath,
    string ManifestSha256,
    DateTimeOffset RegisteredAt,
    string? ETag = null)
{
    /// <summary>When the stage or share last changed (the registration, until the first change).</summary>
    public DateTimeOffset ChangedAt { get; init; } = RegisteredAt;

    /// <summary>The stage before the last change, when there was one: a retired former champion is what a rollback returns to.</summary>
    public ModelStage? PreviousStage { get; init; }

    /// <summary>Whether the stage puts the version in front of traffic (live or mirrored).</summary>
    public bool IsLive => Stage is ModelStage.Shadow or ModelStage.Experiment or ModelStage.Champion;
}

/// <summary>The registry as read at one revision.</summary>
/// <param name="Revision">Changes whenever any version or rule changes.</param>
/// <param name="Versions">Every version of every model.</param>
/// <param name="Rules">Each model's promotion rules, for the models that have any stored (others use the defaults).</param>
public sealed record RegistrySnapshot(string Revision, IReadOnlyList<ModelVersion> Versions, IReadOnlyDictionary<string, PromotionRules>? Rules = null)
{
    /// <summary>The versions of one model.</summary>
    public IReadOnlyList<ModelVersion> Of(string model) => [.. Versions.Where(v => string.Equals(v.Name, model, StringComparison.Ordinal))];

    /// <summary>The model's rules: as stored, or the defaults.</summary>
    public PromotionRules RulesFor(string model) => Rules?.GetValueOrDefault(model) ?? PromotionRules.Default;
}
