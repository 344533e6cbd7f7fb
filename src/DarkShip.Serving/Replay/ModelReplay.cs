using DarkShip.Serving.Export;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Shadow;

namespace DarkShip.Serving.Replay;

/// <summary>One logged request scored by the candidate.</summary>
/// <param name="Row">The request as logged (the champion's row) and the candidate's point-in-time input.</param>
/// <param name="Scores">The candidate's outputs (empty when it failed).</param>
/// <param name="LatencyMs">The candidate's scoring time.</param>
public sealed record ReplayedRow(PointInTimeRow Row, float[] Scores, double LatencyMs);

/// <summary>What a replay came to: the shadow path's comparison with the champion, and metrics where outcomes exist.</summary>
/// <param name="Requests">Logged requests replayed.</param>
/// <param name="ChampionVersions">Requests per champion version that answered them.</param>
/// <param name="Comparison">The candidate's figures against the champion, computed as ShadowScore's windows compute them.</param>
/// <param name="MeanDelta">Mean of candidate − champion score, over every pair (exact).</param>
/// <param name="MeanAbsoluteDelta">Mean |candidate − champion|.</param>
/// <param name="MaxAbsoluteDelta">Largest |candidate − champion|.</param>
/// <param name="FeaturesFromLog">The candidate's features taken from the log as served.</param>
/// <param name="FeaturesAsOf">The candidate's features read as of each prediction.</param>
/// <param name="Degraded">What fell back to defaults in the candidate's inputs, and how often.</param>
/// <param name="Candidate">The candidate's metrics on the labelled requests, paired with the champion's.</param>
/// <param name="Champion">The champion's metrics on the same labelled requests.</param>
public sealed record ReplayReport(
    long Requests,
    IReadOnlyDictionary<string, long> ChampionVersions,
    ModelStats Comparison,
    double MeanDelta,
    double MeanAbsoluteDelta,
    double MaxAbsoluteDelta,
    IReadOnlyList<string> FeaturesFromLog,
    IReadOnlyList<string> FeaturesAsOf,
    IReadOnlyDictionary<string, long> Degraded,
    WindowMetrics? Candidate,
    WindowMetrics? Champion);

/// <summary>
/// Scores a candidate offline on logged traffic, so a model is judged before it sees live traffic.
/// Every request in the range is read from the model log (the champion's row: the champion scores
/// every request), the candidate's input is built point-in-time (<see cref="PointInTimeFeatures"/>),
/// and the candidate is paired with the champion exactly as ShadowScore pairs a shadow — agreement at
/// the candidate's threshold, score deltas, prediction PSI, rank correlation, latency — through the
/// same window aggregate. Where outcomes were posted, both models' metrics on those requests and the
/// paired loss difference under the candidate's promotion metric.
/// </summary>
public sealed class ModelReplay(TrainingSetExporter log, PointInTimeFeatures features, LoadedModel candidate, ModelScorer scorer)
{
    /// <summary>Replays the champion's requests of <paramref name="model"/> in [<paramref name="from"/>, <paramref name="to"/>); <paramref name="onRow"/> sees each, in order.</summary>
    public async Task<ReplayReport> RunAsync(string model, DateTimeOffset from, DateTimeOffset to, Func<ReplayedRow, ValueTask>? onRow = null, CancellationToken cancellationToken = default)
    {
        var range = new ExportRange(model, from, to, Version: null, KeepUnlabelled: true, Arm: PredictionService.ChampionArm);
        var edges = candidate.Edges;
        var window = new WindowAggregate(new AggregateKey(model, candidate.Version.Version, from, from), ShadowScorer.ShadowArm, edges.Prediction);
        var versions = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var degraded = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var labelledCandidate = new List<LabelledPrediction>();
        var labelledChampion = new List<LabelledPrediction>();
        double sumDelta = 0, sumAbsDelta = 0, maxAbsDelta = 0;
        long requests = 0, pairs = 0;
        var observation = new Observation[1];
        await foreach (var row in features.ReadAsync(log.ReadAsync(range, null, cancellationToken), cancellationToken).ConfigureAwait(false))
        {
            var e = row.Row.Row.Entry;
            requests++;
            versions[e.Version] = versions.GetValueOrDefault(e.Version) + 1;
            foreach (var token in row.Degraded)
            {
                degraded[token] = degraded.GetValueOrDefault(token) + 1;
            }

            var scores = new float[candidate.OutputCount];
            var scored = scorer.Score(candidate, row.Input, scores);
            var latencyMs = scored.Milliseconds;
            if (!scored.Succeeded)
            {
                observation[0] = new Observation(requests, ScoringOutcome.Error, latencyMs);
                scores = [];
            }
            else
            {
                var champion = e.Scores.Length > 0 ? e.Scores[0] : (float?)null;
                var named = new KeyValuePair<string, float>[row.Input.Length];
                for (var i = 0; i < named.Length; i++)
                {
                    named[i] = KeyValuePair.Create(candidate.Plan.Features[i].Name, row.Input[i]);
                }

                observation[0] = new Observation(requests, ScoringOutcome.Scored, latencyMs, scores[0], named, champion,
                    champion is { } c ? ShadowComparison.Agree(candidate, scores[0], c) : null, ShadowComparison.SampleKey(e.PredictionId), row.Degraded);
                if (champion is { } score)
                {
                    var delta = (double)scores[0] - score;
                    pairs++;
                    sumDelta += delta;
                    sumAbsDelta += Math.Abs(delta);
                    maxAbsDelta = Math.Max(maxAbsDelta, Math.Abs(delta));
                }

                if (row.Row.Label is { } label)
                {
                    var observedAt = row.Row.ObservedAt!.Value;
                    labelledCandidate.Add(new LabelledPrediction(new LoggedPrediction(e.PredictionId, model, candidate.Version.Version, ShadowScorer.ShadowArm, false, e.Timestamp, scores), label, observedAt, e.Version, e.Scores));
                    labelledChampion.Add(new LabelledPrediction(new LoggedPrediction(e.PredictionId, model, e.Version, e.Arm, e.Served, e.Timestamp, e.Scores), label, observedAt, null, null));
                }
            }

            window.Apply("replay", observation, edges.Feature);
            if (onRow is not null)
            {
                await onRow(new ReplayedRow(row, scores, latencyMs)).ConfigureAwait(false);
            }
        }

        var manifest = candidate.Manifest;
        return new ReplayReport(
            requests,
            versions,
            ModelStats.From([window]),
            pairs == 0 ? double.NaN : sumDelta / pairs,
            pairs == 0 ? double.NaN : sumAbsDelta / pairs,
            pairs == 0 ? double.NaN : maxAbsDelta,
            features.FeaturesFromLog,
            features.FeaturesAsOf,
            degraded,
            labelledCandidate.Count == 0 ? null : ModelEvaluator.Evaluate(candidate.Version.Version, "Candidate", null, labelledCandidate, manifest),
            labelledChampion.Count == 0 ? null : ModelEvaluator.Evaluate(string.Join("+", versions.Keys), "Champion", null, labelledChampion, manifest));
    }
}
