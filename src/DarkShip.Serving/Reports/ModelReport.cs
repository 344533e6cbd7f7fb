using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Reports;

/// <summary>What a report covers: prediction time in [<paramref name="From"/>, <paramref name="To"/>), cut into buckets of <paramref name="Bucket"/>.</summary>
public sealed record ReportRange(DateTimeOffset From, DateTimeOffset To, TimeSpan Bucket)
{
    /// <summary>Bucket lengths a report picks from: the shortest that cuts the range into at most <see cref="MaxBuckets"/>.</summary>
    private static readonly TimeSpan[] BucketLengths =
    [
        TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(3),
        TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(7),
    ];

    /// <summary>How far back a report looks when no start is given.</summary>
    public static readonly TimeSpan DefaultSpan = TimeSpan.FromHours(24);

    /// <summary>Most buckets on a chart's time axis.</summary>
    public const int MaxBuckets = 48;

    /// <summary>[<paramref name="from"/>, <paramref name="to"/>) with the bucket length that suits it; <see langword="null"/> when the range is empty.</summary>
    public static ReportRange? Of(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return null;
        }

        var span = to - from;
        var bucket = BucketLengths.FirstOrDefault(b => Math.Ceiling((double)span.Ticks / b.Ticks) <= MaxBuckets, BucketLengths[^1]);
        return new ReportRange(from.ToUniversalTime(), to.ToUniversalTime(), bucket);
    }

    /// <summary>The start of the bucket <paramref name="at"/> falls in.</summary>
    public DateTimeOffset BucketOf(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % Bucket.Ticks), TimeSpan.Zero);

    /// <summary>Whether <paramref name="at"/> is in the range.</summary>
    public bool Contains(DateTimeOffset at) => at >= From && at < To;
}

/// <summary>
/// Everything a model review looks at, for one model over one range: the registry as it stands, the
/// ladder's moves, each live challenger against the champion on the same requests, outcome metrics
/// and the sequential test, drift per feature and window, and what it all concludes in words.
/// </summary>
/// <param name="Model">The model.</param>
/// <param name="Range">The range and its buckets.</param>
/// <param name="GeneratedAt">When the report was made.</param>
/// <param name="Versions">Every version of the model in the registry, as read.</param>
/// <param name="Rules">The model's promotion rules.</param>
/// <param name="Conclusions">What the page concludes, one sentence per live version, champion first.</param>
/// <param name="Ladder">The ladder's moves (ModelEvents) within the range, oldest first.</param>
/// <param name="Challengers">Each live challenger (shadow or experiment) against the champion.</param>
/// <param name="Outcomes">Outcome metrics of each live version with labelled predictions in the range.</param>
/// <param name="Drift">Drift of each live version's inputs and predictions, per bucket.</param>
/// <param name="Thresholds">The drift thresholds the findings were graded with.</param>
public sealed record ModelReport(
    string Model,
    ReportRange Range,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<ModelVersion> Versions,
    PromotionRules Rules,
    IReadOnlyList<string> Conclusions,
    IReadOnlyList<ModelEvent> Ladder,
    IReadOnlyList<ChallengerComparison> Challengers,
    IReadOnlyList<VersionOutcomes> Outcomes,
    IReadOnlyList<VersionDrift> Drift,
    DriftOptions Thresholds)
{
    /// <summary>Whether the range holds any scoring, outcome or ladder move at all.</summary>
    public bool IsEmpty => Ladder.Count == 0 && Outcomes.Count == 0 && Drift.All(d => d.Windows.All(w => w.Samples == 0)) && Challengers.All(c => c.Windows.Count == 0);
}

/// <summary>One challenger against the champion on the requests both scored, over the range and per bucket.</summary>
/// <param name="Challenger">The challenger as registered.</param>
/// <param name="ChampionVersion">The champion it was paired with.</param>
/// <param name="Overall">The challenger's windows summed over the range (agreement, rank correlation, mean delta, prediction PSI against the champion).</param>
/// <param name="Prediction">The challenger's scores over the pairs' requests.</param>
/// <param name="ChampionPrediction">The champion's scores over the same requests.</param>
/// <param name="Delta">Challenger − champion score, per request.</param>
/// <param name="Threshold">The decision threshold agreement is counted at.</param>
/// <param name="Windows">Per bucket: both versions' latency and error rate, agreement and rank correlation.</param>
public sealed record ChallengerComparison(
    ModelVersion Challenger,
    string ChampionVersion,
    ModelStats Overall,
    Histogram Prediction,
    Histogram ChampionPrediction,
    Histogram Delta,
    double Threshold,
    IReadOnlyList<ComparisonWindow> Windows);

/// <summary>One bucket of a <see cref="ChallengerComparison"/>.</summary>
public sealed record ComparisonWindow(DateTimeOffset Start, ModelStats Challenger, ModelStats Champion);

/// <summary>One version's outcome metrics per bucket and over the range, its calibration, and the sequential test against the champion when it has one.</summary>
/// <param name="Version">The version.</param>
/// <param name="Stage">Its stage now.</param>
/// <param name="Windows">Metrics per bucket of prediction time.</param>
/// <param name="Overall">Over the whole range (with its calibration curve and the paired comparison).</param>
/// <param name="Sequential">The sequential test's log-likelihood ratio after each bucket, for a challenger.</param>
public sealed record VersionOutcomes(string Version, string Stage, IReadOnlyList<WindowMetrics> Windows, WindowMetrics Overall, SequentialTrace? Sequential);

/// <summary>
/// The sequential test (<see cref="MixtureSequentialTest"/>) run over the range's outcomes as they accumulated:
/// for an experiment, its arm against the champion's arm (as PromoteModels decides it); for a shadow, its
/// losses against the champion's on the same labelled requests.
/// </summary>
/// <param name="Basis">Which outcomes: <c>experiment arms</c> or <c>paired shadow requests</c>.</param>
/// <param name="Metric">The per-prediction loss compared.</param>
/// <param name="LogThreshold">ln(1/α): a decision is made once ln Λ reaches it.</param>
/// <param name="Points">ln Λ at the end of each bucket with outcomes.</param>
/// <param name="Latest">The last look.</param>
public sealed record SequentialTrace(string Basis, string Metric, double LogThreshold, IReadOnlyList<SequentialPoint> Points, SequentialResult Latest);

/// <summary>ln Λ once the outcomes of predictions made before <paramref name="At"/> are in.</summary>
public sealed record SequentialPoint(DateTimeOffset At, long ChampionOutcomes, long ChallengerOutcomes, double LogLikelihoodRatio);

/// <summary>One live version's drift per bucket: each bucket against the training baseline and the bucket before.</summary>
/// <param name="Version">The version.</param>
/// <param name="Stage">Its stage now.</param>
/// <param name="Subjects"><c>prediction</c> and the manifest's features, in manifest order.</param>
/// <param name="Windows">Per bucket with scorings.</param>
public sealed record VersionDrift(string Version, string Stage, IReadOnlyList<string> Subjects, IReadOnlyList<DriftWindow> Windows)
{
    /// <summary>
    /// The subjects in alert in the last bucket with enough samples, each with the bucket its alert run began in:
    /// what a reader wants to know first.
    /// </summary>
    public IReadOnlyList<(DriftFinding Finding, DateTimeOffset Since)> OpenAlerts()
    {
        var judged = Windows.Where(w => w.Findings.Any(f => f.Status != DriftStatus.Insufficient)).ToList();
        if (judged.Count == 0)
        {
            return [];
        }

        var open = new List<(DriftFinding, DateTimeOffset)>();
        foreach (var finding in judged[^1].Findings.Where(f => f.Status == DriftStatus.Alert && (f.Reference == "baseline" || f.Measure != DriftMeasures.Distribution)))
        {
            var since = judged[^1].Start;
            for (var i = judged.Count - 2; i >= 0; i--)
            {
                if (!judged[i].Findings.Any(f => f.Subject == finding.Subject && f.Measure == finding.Measure && f.Reference == finding.Reference && f.Status == DriftStatus.Alert))
                {
                    break;
                }

                since = judged[i].Start;
            }

            open.Add((finding, since));
        }

        return open;
    }
}

/// <summary>One bucket of <see cref="VersionDrift"/>: the findings as DriftMonitor would grade that bucket.</summary>
public sealed record DriftWindow(DateTimeOffset Start, long Samples, IReadOnlyList<DriftFinding> Findings);
