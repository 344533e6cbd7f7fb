namespace DarkShip.Serving.Manifests;

/// <summary>What a model's scores mean.</summary>
public enum ModelOutput
{
    /// <summary>One probability of the positive class.</summary>
    Probability,

    /// <summary>One real value.</summary>
    Regression,

    /// <summary>One probability per class.</summary>
    Multiclass,
}

/// <summary>How a feature's stored value becomes the float the model reads.</summary>
public enum ManifestFeatureType
{
    /// <summary>A number, read as is (a stored boolean reads as 1 or 0).</summary>
    Number,

    /// <summary>true → 1, false → 0.</summary>
    Boolean,

    /// <summary>A label mapped to its index in <see cref="ManifestFeature.Categories"/>; an unlisted label is missing.</summary>
    Category,
}

/// <summary>One input of the model, in the model's column order.</summary>
/// <param name="Name">The model's name for it; also its name in a request's inline <c>features</c>.</param>
/// <param name="Group">The feature group it is read from, or <see langword="null"/> when only the request carries it.</param>
/// <param name="Property">The property within the group (defaults to <paramref name="Name"/>).</param>
/// <param name="Type">How the value is read.</param>
/// <param name="Default">The value used when it is missing, stale or unreadable; <see cref="float.NaN"/> lets the model's own missing-value branch decide.</param>
/// <param name="Min">Lowest valid value, if bounded.</param>
/// <param name="Max">Highest valid value, if bounded.</param>
/// <param name="MaxAge">Older stored values are stale and replaced by the default, if set.</param>
/// <param name="Categories">The labels of a category feature, in code order.</param>
public sealed record ManifestFeature(
    string Name,
    string? Group,
    string Property,
    ManifestFeatureType Type,
    float Default,
    double? Min,
    double? Max,
    TimeSpan? MaxAge,
    IReadOnlyList<string>? Categories);

/// <summary>A feature group the model reads, keyed in requests by its name.</summary>
/// <param name="Name">The group, e.g. <c>consumer</c>; requests give its entity key as <c>entities.consumer</c>.</param>
/// <param name="Required">When set, a request without the entity's key or an unknown entity is refused (422) instead of scored on defaults.</param>
/// <param name="CacheFor">How long a read row may be reused by later requests (zero: never).</param>
public sealed record ManifestGroup(string Name, bool Required, TimeSpan CacheFor);

/// <summary>Turns a probability into a decision label: at or above the threshold → <paramref name="Above"/>.</summary>
public sealed record DecisionRule(double Threshold, string Above, string Below)
{
    /// <summary>The label for <paramref name="score"/>.</summary>
    public string Decide(float score) => score >= Threshold ? Above : Below;
}

/// <summary>
/// The manifest stored beside every model artifact: what the model reads, from where, with which
/// defaults and bounds, and how its output is used. Parsed by <see cref="ManifestReader"/>, checked
/// against the compiled model and the feature store by <see cref="ManifestValidator"/>.
/// </summary>
/// <param name="Name">The model's name.</param>
/// <param name="Version">The version it was written for, if stated (the registry's version wins).</param>
/// <param name="Format">The artifact's format (<c>xgboost-json</c>, <c>mlnet</c>, <c>onnx</c>), or <see langword="null"/> when the manifest leaves it to the file.</param>
/// <param name="Output">What the scores mean.</param>
/// <param name="Groups">Feature groups read.</param>
/// <param name="Features">Inputs in model column order.</param>
/// <param name="Decision">Decision threshold for probability models.</param>
/// <param name="PromotionMetric">The metric that decides promotion (e.g. <c>logloss</c>, <c>auc</c>, <c>rmse</c>).</param>
/// <param name="AssignmentGroup">Whose entity key assigns experiment arms and shadow samples (default: the first group).</param>
/// <param name="BaselineJson">The training baseline (histograms), kept verbatim for drift monitoring.</param>
/// <param name="Classes">A multiclass model's class labels, in the order of its outputs, when given.</param>
public sealed record ModelManifest(
    string Name,
    string? Version,
    string? Format,
    ModelOutput Output,
    IReadOnlyList<ManifestGroup> Groups,
    IReadOnlyList<ManifestFeature> Features,
    DecisionRule? Decision,
    string PromotionMetric,
    string? AssignmentGroup,
    string? BaselineJson,
    IReadOnlyList<string>? Classes = null)
{
    /// <summary>An XGBoost JSON model (<c>Booster.save_model("model.json")</c>); <c>xgboost</c> is read as this too.</summary>
    public const string XGBoostJson = "xgboost-json";

    /// <summary>An ML.NET model (<c>MLContext.Model.Save(model, data.Schema, "model.zip")</c>).</summary>
    public const string MLNet = "mlnet";

    /// <summary>An ONNX model, scored by ONNX Runtime.</summary>
    public const string Onnx = "onnx";

    /// <summary>The formats a manifest may name.</summary>
    public static IReadOnlyList<string> Formats { get; } = [XGBoostJson, MLNet, Onnx];
}

/// <summary>A manifest that cannot be used, with every reason.</summary>
public sealed class ManifestException(IReadOnlyList<string> errors)
    : Exception("The model manifest is invalid: " + string.Join("; ", errors))
{
    /// <summary>Each problem, e.g. <c>features[3].default: 7 is outside [0, 1]</c>.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
