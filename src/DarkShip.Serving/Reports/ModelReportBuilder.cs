using System.Globalization;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Reports;

/// <summary>A report that cannot be made as asked (an unknown model or version): the message says why, plainly.</summary>
public sealed class ReportInputException(string message) : Exception(message);

/// <summary>
/// Builds a <see cref="ModelReport"/> from the stores the system already keeps: the registry and its
/// audit (ModelEvents), ShadowScore's windowed aggregates, the labelled predictions, and the manifests'
/// training baselines. Nothing is stored for the report: drift per bucket is graded here as DriftMonitor
/// grades a window, and the conclusions use PromoteModels' own rules, so the page and the ladder agree.
/// </summary>
public sealed class ModelReportBuilder(
    IModelRegistry registry,
    IModelEventLog events,
    IAggregateStore aggregates,
    IModelArtifactStore artifacts,
    IOutcomeStore outcomes,
    DriftOptions drift,
    TimeProvider time)
{
    /// <summary>The report of <paramref name="model"/> (only <paramref name="version"/> and the champion, when given) over <paramref name="range"/>.</summary>
    /// <exception cref="ReportInputException">The model or the version is not registered.</exception>
    public async Task<ModelReport> BuildAsync(string model, string? version, ReportRange range, CancellationToken cancellationToken = default)
    {
        var snapshot = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var versions = snapshot?.Of(model) ?? [];
        if (versions.Count == 0)
        {
            throw new ReportInputException($"No versions of '{model}' are registered.");
        }

        if (version is not null && versions.All(v => v.Version != version))
        {
            throw new ReportInputException($"'{model}' has no version '{version}' (registered: {string.Join(", ", versions.Select(v => v.Version))}).");
        }

        var rules = snapshot!.RulesFor(model);
        var champion = versions.Where(v => v.Stage == ModelStage.Champion).MaxBy(v => v.ChangedAt);
        var subjects = versions
            .Where(v => version is null ? v.IsLive : v.Version == version || v == champion)
            .OrderBy(v => v.Stage.ListingRank())
            .ThenBy(v => v.ChangedAt)
            .ToList();

        var studied = new List<Studied>();
        foreach (var v in subjects)
        {
            studied.Add(await StudyAsync(v, range, cancellationToken).ConfigureAwait(false));
        }

        var championStudy = studied.FirstOrDefault(s => s.Version == champion);
        var challengers = new List<ChallengerComparison>();
        var outcomeReports = new List<VersionOutcomes>();
        var driftReports = new List<VersionDrift>();
        foreach (var s in studied)
        {
            if (championStudy is not null && !ReferenceEquals(s, championStudy))
            {
                challengers.Add(Compare(s, championStudy, range));
            }

            if (s.Labels.Count > 0)
            {
                outcomeReports.Add(Outcomes(s, championStudy, range, rules));
            }

            driftReports.Add(Drift(s, range));
        }

        var ladder = (await events.ReadAsync(model, cancellationToken).ConfigureAwait(false))
            .Where(e => range.Contains(e.At) && (version is null || e.Version == version || e.Version == champion?.Version))
            .OrderBy(e => e.At)
            .ToList();
        var conclusions = new List<string>();
        foreach (var s in studied)
        {
            conclusions.Add(await ConcludeAsync(s, champion, rules, outcomeReports, driftReports, cancellationToken).ConfigureAwait(false));
        }

        if (champion is null)
        {
            conclusions.Insert(0, $"{model} has no champion: the predict function answers no request for it.");
        }

        return new ModelReport(model, range, time.GetUtcNow(), versions, rules, conclusions, ladder, challengers, outcomeReports, driftReports, drift);
    }

    /// <summary>A version's manifest, its aggregates summed per bucket, and its labelled predictions, over the range.</summary>
    private async Task<Studied> StudyAsync(ModelVersion v, ReportRange range, CancellationToken cancellationToken)
    {
        var manifest = ManifestReader.Parse(await artifacts.DownloadAsync(v.ManifestPath, v.ManifestSha256, cancellationToken).ConfigureAwait(false));
        var baseline = TrainingBaseline.From(manifest);
        var buckets = new SortedDictionary<DateTimeOffset, WindowAggregate>();
        foreach (var w in await aggregates.ReadAsync(v.Name, v.Version, null, range.From, cancellationToken).ConfigureAwait(false))
        {
            if (!range.Contains(w.Key.WindowStart) || !w.Prediction.Edges.AsSpan().SequenceEqual(baseline.PredictionEdges))
            {
                continue; // outside the range, or binned on another manifest's edges: it cannot be summed with these
            }

            var start = range.BucketOf(w.Key.WindowStart);
            if (!buckets.TryGetValue(start, out var bucket))
            {
                buckets[start] = bucket = new WindowAggregate(new AggregateKey(v.Name, v.Version, v.ChangedAt, start), w.Arm, baseline.PredictionEdges);
            }

            bucket.Merge(w);
        }

        var labels = new List<LabelledPrediction>();
        await foreach (var l in outcomes.ReadLabelsAsync(v.Name, v.Version, range.From, range.To, cancellationToken).ConfigureAwait(false))
        {
            labels.Add(l);
        }

        return new Studied(v, manifest, baseline, buckets, labels);
    }

    private static ChallengerComparison Compare(Studied challenger, Studied champion, ReportRange range)
    {
        var sum = new WindowAggregate(new AggregateKey(challenger.Version.Name, challenger.Version.Version, challenger.Version.ChangedAt, range.From), "", challenger.Baseline.PredictionEdges);
        foreach (var w in challenger.Buckets.Values)
        {
            sum.Merge(w);
        }

        var windows = challenger.Buckets.Keys.Union(champion.Buckets.Keys).Order()
            .Select(start => new ComparisonWindow(start, Stats(challenger, start), Stats(champion, start)))
            .ToList();
        return new ChallengerComparison(challenger.Version, champion.Version.Version, ModelStats.From([sum]),
            sum.Prediction, sum.ChampionPrediction, sum.Delta, challenger.Manifest.Decision?.Threshold ?? 0.5, windows);

        static ModelStats Stats(Studied s, DateTimeOffset start) => s.Buckets.TryGetValue(start, out var w) ? ModelStats.From([w]) : ModelStats.Empty;
    }

    private static VersionOutcomes Outcomes(Studied s, Studied? champion, ReportRange range, PromotionRules rules)
    {
        var stage = s.Version.Stage.ToString();
        var windows = s.Labels.GroupBy(l => range.BucketOf(l.Prediction.PredictedAt)).OrderBy(g => g.Key)
            .Select(g => ModelEvaluator.Evaluate(s.Version.Version, stage, g.Key, [.. g], s.Manifest))
            .ToList();
        var overall = ModelEvaluator.Evaluate(s.Version.Version, stage, null, s.Labels, s.Manifest);
        var sequential = champion is null || ReferenceEquals(champion, s) ? null : Sequential(s, champion, range, rules);
        return new VersionOutcomes(s.Version.Version, stage, windows, overall, sequential);
    }

    /// <summary>
    /// The sequential test as outcomes accumulated. An experiment is tested as PromoteModels tests it (the arms
    /// since it began); any other challenger on the requests it shares with the champion.
    /// </summary>
    private static SequentialTrace? Sequential(Studied challenger, Studied champion, ReportRange range, PromotionRules rules)
    {
        var metric = challenger.Manifest.PromotionMetric;
        if (OutcomeMetrics.LossOf(metric, challenger.Manifest.Output) is not { } loss)
        {
            return null; // not a mean of per-prediction losses: the test does not apply (promotion is by hand)
        }

        List<(DateTimeOffset At, double Champion, double Challenger, bool IsChampion)> losses;
        string basis;
        if (challenger.Version.Stage == ModelStage.Experiment)
        {
            basis = "experiment arms";
            var since = challenger.Version.ChangedAt;
            losses =
            [
                .. champion.Labels.Where(l => l.Prediction.Served && l.Prediction.Arm == Predictions.PredictionService.ChampionArm && l.Prediction.PredictedAt >= since)
                    .Select(l => (l.Prediction.PredictedAt, loss(l.Prediction.Scores, l.Label), double.NaN, true)),
                .. challenger.Labels.Where(l => l.Prediction.Served && l.Prediction.Arm == Predictions.PredictionService.ExperimentArm && l.Prediction.PredictedAt >= since)
                    .Select(l => (l.Prediction.PredictedAt, double.NaN, loss(l.Prediction.Scores, l.Label), false)),
            ];
        }
        else
        {
            basis = "paired shadow requests";
            losses = [.. challenger.Labels.Where(l => l.ChampionScores is { Length: > 0 })
                .Select(l => (l.Prediction.PredictedAt, loss(l.ChampionScores!, l.Label), loss(l.Prediction.Scores, l.Label), false))];
        }

        if (losses.Count == 0)
        {
            return null;
        }

        var settings = new SequentialSettings(rules.Alpha, rules.MinEffect, rules.MinOutcomes);
        RunningMoments championMoments = default, challengerMoments = default;
        var points = new List<SequentialPoint>();
        SequentialResult? latest = null;
        foreach (var bucket in losses.GroupBy(l => range.BucketOf(l.At)).OrderBy(g => g.Key))
        {
            foreach (var (_, championLoss, challengerLoss, _) in bucket)
            {
                if (!double.IsNaN(championLoss))
                {
                    championMoments.Add(championLoss);
                }

                if (!double.IsNaN(challengerLoss))
                {
                    challengerMoments.Add(challengerLoss);
                }
            }

            latest = MixtureSequentialTest.Decide(championMoments, challengerMoments, settings);
            var end = bucket.Key + range.Bucket;
            points.Add(new SequentialPoint(end < range.To ? end : range.To, championMoments.Count, challengerMoments.Count, latest.LogLikelihoodRatio));
        }

        return new SequentialTrace(basis, metric, latest!.LogThreshold, points, latest);
    }

    /// <summary>Each bucket graded as DriftMonitor grades a window: against the training baseline and the bucket before.</summary>
    private VersionDrift Drift(Studied s, ReportRange range)
    {
        var windows = new List<DriftWindow>();
        var previous = Empty(s, range.From - range.Bucket);
        for (var start = range.BucketOf(range.From); start < range.To; start += range.Bucket)
        {
            var current = s.Buckets.GetValueOrDefault(start) ?? Empty(s, start);
            windows.Add(new DriftWindow(start, current.Scored, DriftAnalysis.Compare(s.Manifest, s.Baseline, current, previous, drift)));
            previous = current;
        }

        return new VersionDrift(s.Version.Version, s.Version.Stage.ToString(), ["prediction", .. s.Manifest.Features.Select(f => f.Name)], windows);

        static WindowAggregate Empty(Studied s, DateTimeOffset start) =>
            new(new AggregateKey(s.Version.Name, s.Version.Version, s.Version.ChangedAt, start), "", s.Baseline.PredictionEdges);
    }

    /// <summary>One sentence on where a version stands and why, by PromoteModels' rules on its current stage epoch.</summary>
    private async Task<string> ConcludeAsync(Studied s, ModelVersion? champion, PromotionRules rules, List<VersionOutcomes> outcomeReports, List<VersionDrift> driftReports, CancellationToken cancellationToken)
    {
        var v = s.Version;
        var name = "v" + v.Version;
        string sentence;
        switch (v.Stage)
        {
            case ModelStage.Champion:
                sentence = $"{name} is the champion (since {When(v.ChangedAt)}).";
                break;
            case ModelStage.Shadow when champion is null:
                sentence = $"{name} is in the shadow at {Share(v)}, but there is no champion to compare it with.";
                break;
            case ModelStage.Shadow:
                var stats = ModelStats.From(await aggregates.ReadAsync(v.Name, v.Version, v.ChangedAt.ToUniversalTime(), DateTimeOffset.MinValue, cancellationToken).ConfigureAwait(false));
                if (stats.Samples >= rules.MinGuardrailSamples && stats.ErrorRate > rules.MaxErrorRate)
                {
                    sentence = $"{name} at shadow {Share(v)} is due for a rollback: its error rate {F(stats.ErrorRate)} is above {F(rules.MaxErrorRate)}.";
                }
                else if (ModelPromoter.ShadowHold(stats, rules) is { } hold)
                {
                    sentence = $"{name} holds at shadow {Share(v)}: {hold}.";
                }
                else
                {
                    sentence = ModelPromoter.NextShadowShare(v, rules) is { } next
                        ? $"{name} at shadow {Share(v)} is within bounds ({stats.Samples} samples): PromoteModels' next run moves it to {F(next)} %."
                        : $"{name} at shadow {Share(v)} is within bounds ({stats.Samples} samples): next, an experiment at {F(rules.ExperimentShare)} % of live traffic.";
                }

                break;
            case ModelStage.Experiment:
                var test = outcomeReports.FirstOrDefault(o => o.Version == v.Version)?.Sequential;
                sentence = test is null
                    ? $"{name} is in an experiment at {Share(v)} of live traffic (since {When(v.ChangedAt)}); no outcomes of it in this range yet."
                    : $"{name} is in an experiment at {Share(v)} of live traffic: {test.Latest.Decision switch
                    {
                        ExperimentDecision.ChallengerBetter => "the test finds it better",
                        ExperimentDecision.ChampionBetter => "the test finds the champion better",
                        _ => "not decided yet",
                    }} ({test.Latest.Summary}).";
                break;
            default:
                sentence = $"{name} is {v.Stage.ToString().ToLowerInvariant()} (since {When(v.ChangedAt)}): it scores no traffic.";
                break;
        }

        var alerts = driftReports.FirstOrDefault(d => d.Version == v.Version)?.OpenAlerts() ?? [];
        if (alerts.Count > 0)
        {
            // The longest-standing first; past a few, a count (the drift section lists them all).
            var shown = alerts.OrderBy(a => a.Since).ThenBy(a => a.Finding.Subject == "prediction" ? 0 : 1).Take(MaxAlertsInWords).ToList();
            sentence += " Drift alert: " + string.Join("; ", shown.Select(a => $"{a.Finding.Subject} {Describe(a.Finding)} since {When(a.Since)}"))
                + (alerts.Count > shown.Count ? $"; and {alerts.Count - shown.Count} more (see Drift)." : ".");
        }

        return sentence;
    }

    /// <summary>Drift alerts named in a conclusion; the rest are counted.</summary>
    private const int MaxAlertsInWords = 3;

    private string Describe(DriftFinding f) => f.Measure == DriftMeasures.Distribution
        ? f.Psi >= drift.PsiAlert ? $"PSI {F(f.Psi)} > {F(drift.PsiAlert)}" : f.Reason
        : $"{(f.Measure == DriftMeasures.MissingRate ? "missing" : "stale")} {F(f.Value * 100)} % against {F(f.ReferenceValue * 100)} %";

    private static string Share(ModelVersion v) => F(v.SharePercent) + " %";

    private static string F(double d) => d.ToString("0.##", CultureInfo.InvariantCulture);

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";

    private sealed record Studied(ModelVersion Version, ModelManifest Manifest, TrainingBaseline Baseline, SortedDictionary<DateTimeOffset, WindowAggregate> Buckets, List<LabelledPrediction> Labels);
}
