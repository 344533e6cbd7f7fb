using DarkShip.Serving.Manifests;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Outcomes;

/// <summary>
/// A version's comparison with the champion on the very requests both scored (a shadow's or an
/// experiment's labelled predictions carry the champion's scores): the mean per-prediction loss of
/// each under the promotion metric, and their difference with its standard error. Stronger than the
/// arm split, because both models face the same requests.
/// </summary>
/// <param name="ChampionVersion">The champion that scored the same requests.</param>
/// <param name="Pairs">Labelled requests scored by both.</param>
/// <param name="Loss">This version's mean loss on them.</param>
/// <param name="ChampionLoss">The champion's mean loss on them.</param>
/// <param name="Difference">Champion loss − this version's loss (positive: this version is better).</param>
/// <param name="StandardError">The difference's standard error.</param>
public sealed record PairedComparison(string ChampionVersion, long Pairs, double Loss, double ChampionLoss, double Difference, double StandardError);

/// <summary>One version's metrics over one window of prediction time (or over the whole span when <paramref name="WindowStart"/> is null).</summary>
public sealed record WindowMetrics(string Version, string Stage, DateTimeOffset? WindowStart, OutcomeMetrics Metrics, PairedComparison? Paired);

/// <summary>
/// Metrics per model version and window from the labelled predictions: the champion's, the
/// experiment's and every shadow's (see <see cref="OutcomeMetrics"/>), each window holding the
/// predictions made in it — so an outcome that arrives weeks later still counts in its prediction's window.
/// </summary>
public sealed class ModelEvaluator(IModelRegistry registry, IModelArtifactStore artifacts, IOutcomeStore outcomes)
{
    /// <summary>The metrics of every version of <paramref name="model"/> with outcomes in [<paramref name="from"/>, <paramref name="to"/>), per <paramref name="window"/> and over the whole span.</summary>
    public async Task<IReadOnlyList<WindowMetrics>> EvaluateAsync(string model, DateTimeOffset from, DateTimeOffset to, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var snapshot = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var results = new List<WindowMetrics>();
        foreach (var version in (snapshot?.Of(model) ?? []).OrderBy(v => v.Stage.ListingRank()))
        {
            var labelled = new List<LabelledPrediction>();
            await foreach (var l in outcomes.ReadLabelsAsync(model, version.Version, from, to, cancellationToken).ConfigureAwait(false))
            {
                labelled.Add(l);
            }

            if (labelled.Count == 0)
            {
                continue;
            }

            var manifest = ManifestReader.Parse(await artifacts.DownloadAsync(version.ManifestPath, version.ManifestSha256, cancellationToken).ConfigureAwait(false));
            var stage = version.Stage.ToString();
            foreach (var group in labelled.GroupBy(l => Floor(l.Prediction.PredictedAt, window)).OrderBy(g => g.Key))
            {
                results.Add(Evaluate(version.Version, stage, group.Key, [.. group], manifest));
            }

            results.Add(Evaluate(version.Version, stage, null, labelled, manifest));
        }

        return results;
    }

    /// <summary>The metrics of <paramref name="labelled"/>, and the paired comparison where the champion's scores are known.</summary>
    public static WindowMetrics Evaluate(string version, string stage, DateTimeOffset? windowStart, IReadOnlyList<LabelledPrediction> labelled, ModelManifest manifest)
    {
        var metrics = OutcomeMetrics.From(manifest.Output, [.. labelled.Select(l => l.Prediction.Scores)], [.. labelled.Select(l => l.Label)], manifest.Decision?.Threshold ?? 0.5);
        PairedComparison? paired = null;
        var loss = OutcomeMetrics.LossOf(manifest.PromotionMetric, manifest.Output) ?? OutcomeMetrics.LossOf(manifest.Output == ModelOutput.Regression ? "mse" : "logloss", manifest.Output)!;
        var pairs = labelled.Where(l => l.ChampionScores is { Length: > 0 } && l.ChampionVersion is not null).ToList();
        if (pairs.Count > 0)
        {
            RunningMoments mine = default, theirs = default, difference = default;
            foreach (var p in pairs)
            {
                double a = loss(p.Prediction.Scores, p.Label), b = loss(p.ChampionScores!, p.Label);
                mine.Add(a);
                theirs.Add(b);
                difference.Add(b - a);
            }

            paired = new PairedComparison(pairs[0].ChampionVersion!, pairs.Count, mine.Mean, theirs.Mean, difference.Mean,
                pairs.Count > 1 ? Math.Sqrt(difference.Variance / pairs.Count) : double.NaN);
        }

        return new WindowMetrics(version, stage, windowStart, metrics, paired);
    }

    private static DateTimeOffset Floor(DateTimeOffset at, TimeSpan window) =>
        new(at.UtcTicks - (at.UtcTicks % window.Ticks), TimeSpan.Zero);
}
