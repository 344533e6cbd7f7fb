using System.Globalization;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Outcomes;

/// <summary>
/// Decides experiments on outcomes. The arms are the requests each version answered (the champion's
/// served predictions against the experiment's, since the experiment began); each labelled prediction
/// contributes its loss under the manifest's promotion metric (log loss, Brier, squared or absolute
/// error), and <see cref="MixtureSequentialTest"/> compares the arms' mean loss with the model's
/// <c>alpha</c>, <c>minEffect</c> and <c>minOutcomes</c> rules. A promotion also needs the outcome
/// guardrail to hold: for a probability model, the challenger's ROC AUC no more than <c>maxAucDrop</c>
/// below the champion's.
/// </summary>
public sealed class OutcomeExperimentAnalysis(IOutcomeStore outcomes, IModelLineups models, TimeProvider time) : IExperimentAnalysis
{
    /// <inheritdoc />
    public async Task<ExperimentVerdict> AnalyzeAsync(ModelVersion champion, ModelVersion challenger, PromotionRules rules, CancellationToken cancellationToken = default)
    {
        var lineup = models.Find(challenger.Name);
        var manifest = lineup?.All.FirstOrDefault(m => m.Version.Version == challenger.Version)?.Manifest;
        if (manifest is null)
        {
            return Inconclusive($"version {challenger.Version} is not loaded here yet", []);
        }

        if (OutcomeMetrics.LossOf(manifest.PromotionMetric, manifest.Output) is not { } loss)
        {
            return Inconclusive($"the promotion metric '{manifest.PromotionMetric}' is not a mean of per-prediction losses; the sequential test supports logloss, brier, rmse/mse and mae — promote by hand", []);
        }

        var from = challenger.ChangedAt;
        var to = time.GetUtcNow().AddMinutes(1);
        var championArm = await ArmAsync(champion, PredictionService.ChampionArm, from, to, loss, cancellationToken).ConfigureAwait(false);
        var challengerArm = await ArmAsync(challenger, PredictionService.ExperimentArm, from, to, loss, cancellationToken).ConfigureAwait(false);
        var result = MixtureSequentialTest.Decide(championArm.Losses, challengerArm.Losses, new SequentialSettings(rules.Alpha, rules.MinEffect, rules.MinOutcomes));
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["experiment.metric"] = manifest.PromotionMetric,
            ["experiment.championOutcomes"] = I(championArm.Losses.Count),
            ["experiment.challengerOutcomes"] = I(challengerArm.Losses.Count),
            ["experiment.championMeanLoss"] = F(championArm.Losses.Mean),
            ["experiment.challengerMeanLoss"] = F(challengerArm.Losses.Mean),
            ["experiment.difference"] = F(result.Difference),
            ["experiment.standardError"] = F(result.StandardError),
            ["experiment.logLikelihoodRatio"] = F(result.LogLikelihoodRatio),
            ["experiment.logThreshold"] = F(result.LogThreshold),
            ["experiment.pValue"] = F(result.PValue),
        };
        if (result.Decision == ExperimentDecision.ChallengerBetter && manifest.Output == ModelOutput.Probability)
        {
            var aucChampion = OutcomeMetrics.RocAuc([.. championArm.Scores], [.. championArm.Labels]);
            var aucChallenger = OutcomeMetrics.RocAuc([.. challengerArm.Scores], [.. challengerArm.Labels]);
            evidence["experiment.championAuc"] = F(aucChampion);
            evidence["experiment.challengerAuc"] = F(aucChallenger);
            if (aucChampion - aucChallenger > rules.MaxAucDrop)
            {
                return new ExperimentVerdict(ExperimentDecision.Inconclusive,
                    $"{result.Summary}; held by the AUC guardrail: {F(aucChallenger)} against the champion's {F(aucChampion)} (max drop {F(rules.MaxAucDrop)})", evidence);
            }
        }

        return new ExperimentVerdict(result.Decision, result.Summary, evidence);
    }

    private async Task<Arm> ArmAsync(ModelVersion version, string arm, DateTimeOffset from, DateTimeOffset to, Func<float[], double, double> loss, CancellationToken cancellationToken)
    {
        var result = new Arm();
        await foreach (var l in outcomes.ReadLabelsAsync(version.Name, version.Version, from, to, cancellationToken).ConfigureAwait(false))
        {
            if (l.Prediction.Arm != arm || !l.Prediction.Served)
            {
                continue; // the other arm's requests, or a fallback answer
            }

            result.Losses.Add(loss(l.Prediction.Scores, l.Label));
            result.Scores.Add(l.Prediction.Scores[0]);
            result.Labels.Add(l.Label);
        }

        return result;
    }

    private static ExperimentVerdict Inconclusive(string why, Dictionary<string, string> evidence) => new(ExperimentDecision.Inconclusive, why, evidence);

    private static string F(double d) => d.ToString("0.######", CultureInfo.InvariantCulture);

    private static string I(long n) => n.ToString(CultureInfo.InvariantCulture);

    private sealed class Arm
    {
        public RunningMoments Losses;

        public List<double> Scores { get; } = [];

        public List<double> Labels { get; } = [];
    }
}
