using DarkShip.Serving.Models;

namespace DarkShip.Serving.Shadow;

/// <summary>
/// How a challenger's score is held against the champion's on the same request: the shadow path and
/// replay compare through here, so their figures mean the same thing.
/// </summary>
public static class ShadowComparison
{
    /// <summary>Whether two scores fall on the same side of the challenger's decision threshold (0.5 for a probability without one); <see langword="null"/> for a model with no threshold.</summary>
    public static bool? Agree(LoadedModel challenger, float score, float championScore)
    {
        ArgumentNullException.ThrowIfNull(challenger);
        double? threshold = challenger.Manifest.Decision?.Threshold
            ?? (challenger.Manifest.Output == Manifests.ModelOutput.Probability ? 0.5 : null);
        return threshold is { } t ? score >= t == championScore >= t : null;
    }

    /// <summary>The prediction's key in the rank-correlation sample (which keeps the smallest keys): stable, so every instance samples the same requests.</summary>
    public static ulong SampleKey(string predictionId) => StableHash.Of(predictionId);
}
