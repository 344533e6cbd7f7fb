namespace DarkShip.Serving.Monitoring;

/// <summary>How one model version's scoring of one mirrored request went.</summary>
public enum ScoringOutcome
{
    /// <summary>Scored within budget.</summary>
    Scored,

    /// <summary>The model threw or returned a non-finite score: counted against the model.</summary>
    Error,

    /// <summary>Scoring took longer than the budget: counted against the model.</summary>
    TimedOut,

    /// <summary>Features the model needs could not be read (the store, not the model, failed): not counted against it.</summary>
    FeaturesUnavailable,
}

/// <summary>One model version's scoring of one mirrored request, as an aggregate counts it.</summary>
/// <param name="Sequence">The event's sequence number in its partition: what makes a re-delivery recognisable.</param>
/// <param name="Outcome">How it went.</param>
/// <param name="LatencyMs">Scoring time (shadow) or request time (live).</param>
/// <param name="Score">The first output, when scored.</param>
/// <param name="Features">The input by feature name, when known.</param>
/// <param name="ChampionScore">The champion's first output on the same request, for a paired comparison.</param>
/// <param name="Agrees">Whether the two decisions at the threshold agree.</param>
/// <param name="SampleKey">A hash of the prediction id: the rank-correlation sample keeps the smallest keys.</param>
/// <param name="Degraded">What fell back to defaults for this scoring (<c>consumer:timedOut</c>, <c>amount:stale</c>), when known.</param>
public sealed record Observation(
    long Sequence,
    ScoringOutcome Outcome,
    double LatencyMs,
    float Score = float.NaN,
    IReadOnlyList<KeyValuePair<string, float>>? Features = null,
    float? ChampionScore = null,
    bool? Agrees = null,
    ulong SampleKey = 0,
    IReadOnlyList<string>? Degraded = null);

/// <summary>A (champion, challenger) score pair kept for the rank correlation, with its sampling key.</summary>
public readonly record struct RankPair(ulong Key, float Champion, float Challenger);

/// <summary>
/// Identifies a window: one model version, in one stage epoch (the instant its stage or share last changed), over one
/// time window; as ShadowScore writes it, of one hub <paramref name="Partition"/> (each partition's consumer writes its
/// own row, so concurrent partitions never contend for one), and as stores read it, of all partitions summed ("").
/// </summary>
public sealed record AggregateKey(string Model, string Version, DateTimeOffset Epoch, DateTimeOffset WindowStart, string Partition = "")
{
    /// <summary>The window of every partition (a method, not a property: a record prints its properties, and this one's own key would print it again).</summary>
    public AggregateKey AllPartitions() => Partition.Length == 0 ? this : this with { Partition = "" };
}

/// <summary>
/// What one model version did over one time window of mirrored traffic, within one stage epoch:
/// counts, errors, latency, histograms of the prediction and of every input feature, and — for a
/// challenger — the paired comparison with the champion on the same requests. Windows merge by
/// adding, so PromoteModels and DriftMonitor read any span as a sum. Each window remembers the last
/// sequence number it counted per hub partition, so a re-delivered batch is never counted twice.
/// </summary>
public sealed class WindowAggregate
{
    /// <summary>How many score pairs the rank-correlation sample keeps.</summary>
    public const int RankSampleSize = 256;

    /// <summary>An empty window.</summary>
    public WindowAggregate(AggregateKey key, string arm, double[] predictionEdges)
    {
        Key = key;
        Arm = arm;
        Prediction = new Histogram(predictionEdges);
        ChampionPrediction = new Histogram(predictionEdges);
    }

    /// <summary>Which window.</summary>
    public AggregateKey Key { get; }

    /// <summary><c>shadow</c>, <c>experiment</c> or <c>champion</c>.</summary>
    public string Arm { get; set; }

    /// <summary>Observations counted.</summary>
    public long Count { get; set; }

    /// <summary>Scored within budget.</summary>
    public long Scored { get; set; }

    /// <summary>The model threw or returned NaN.</summary>
    public long Errors { get; set; }

    /// <summary>Over the time budget.</summary>
    public long TimedOut { get; set; }

    /// <summary>Skipped because features could not be read.</summary>
    public long FeaturesUnavailable { get; set; }

    /// <summary>Latency in milliseconds.</summary>
    public Histogram Latency { get; set; } = new(Histogram.LatencyEdges);

    /// <summary>The version's first output.</summary>
    public Histogram Prediction { get; set; }

    /// <summary>Every input feature, by name.</summary>
    public Dictionary<string, Histogram> Features { get; } = new(StringComparer.Ordinal);

    /// <summary>How often each fallback happened (<c>consumer:notFound</c>, <c>amount:stale</c>), over the scorings whose input was counted.</summary>
    public Dictionary<string, long> Degraded { get; } = new(StringComparer.Ordinal);

    /// <summary>Scorings whose input was counted into <see cref="Features"/> and <see cref="Degraded"/>.</summary>
    public long Inputs { get; set; }

    /// <summary>Requests scored by both this version and the champion.</summary>
    public long Pairs { get; set; }

    /// <summary>Pairs whose decisions at the threshold agree.</summary>
    public long Agreements { get; set; }

    /// <summary>Challenger score minus champion score, over the pairs.</summary>
    public Histogram Delta { get; set; } = new(Histogram.DeltaEdges);

    /// <summary>The champion's first output over the same pairs.</summary>
    public Histogram ChampionPrediction { get; set; }

    /// <summary>The pairs with the smallest sampling keys (at most <see cref="RankSampleSize"/>): a deterministic, mergeable sample.</summary>
    public List<RankPair> RankSample { get; } = [];

    /// <summary>The last sequence number counted, per hub partition.</summary>
    public Dictionary<string, long> Watermarks { get; } = new(StringComparer.Ordinal);

    /// <summary>Samples the model itself answered or failed (the denominator of the error rate).</summary>
    public long Attempts => Scored + Errors + TimedOut;

    /// <summary>
    /// Counts the observations from <paramref name="partition"/> it has not counted before (sequence
    /// above the partition's watermark); returns how many were new.
    /// </summary>
    /// <param name="partition">The hub partition the observations' events came from.</param>
    /// <param name="observations">In sequence order.</param>
    /// <param name="featureEdges">Edges for a feature's histogram, by name.</param>
    public int Apply(string partition, IEnumerable<Observation> observations, Func<string, double[]> featureEdges)
    {
        var watermark = Watermarks.TryGetValue(partition, out var w) ? w : long.MinValue;
        var added = 0;
        foreach (var o in observations)
        {
            if (o.Sequence <= watermark)
            {
                continue;
            }

            Add(o, featureEdges);
            watermark = o.Sequence;
            added++;
        }

        if (added > 0)
        {
            Watermarks[partition] = watermark;
        }

        return added;
    }

    /// <summary>
    /// One window of all partitions from its partitions' windows (<paramref name="parts"/>, of the same version and window):
    /// counts and histograms added, each partition's watermark kept.
    /// </summary>
    public static WindowAggregate Combine(IReadOnlyList<WindowAggregate> parts)
    {
        if (parts.Count == 1 && parts[0].Key.Partition.Length == 0)
        {
            return parts[0];
        }

        var whole = new WindowAggregate(parts[0].Key.AllPartitions(), parts[0].Arm, parts[0].Prediction.Edges);
        foreach (var part in parts)
        {
            whole.Merge(part);
            foreach (var (partition, watermark) in part.Watermarks)
            {
                whole.Watermarks[partition] = Math.Max(watermark, whole.Watermarks.GetValueOrDefault(partition, long.MinValue));
            }
        }

        return whole;
    }

    /// <summary>Adds <paramref name="other"/> (another window of the same version) into this one; watermarks are not merged.</summary>
    public void Merge(WindowAggregate other)
    {
        Count += other.Count;
        Scored += other.Scored;
        Errors += other.Errors;
        TimedOut += other.TimedOut;
        FeaturesUnavailable += other.FeaturesUnavailable;
        Latency.Merge(other.Latency);
        Prediction.Merge(other.Prediction);
        foreach (var (name, h) in other.Features)
        {
            if (Features.TryGetValue(name, out var mine))
            {
                mine.Merge(h);
            }
            else
            {
                Features[name] = h.Clone();
            }
        }

        foreach (var (token, count) in other.Degraded)
        {
            Degraded[token] = Degraded.GetValueOrDefault(token) + count;
        }

        Inputs += other.Inputs;
        Pairs += other.Pairs;
        Agreements += other.Agreements;
        Delta.Merge(other.Delta);
        ChampionPrediction.Merge(other.ChampionPrediction);
        foreach (var p in other.RankSample)
        {
            KeepForRank(p);
        }
    }

    private void Add(Observation o, Func<string, double[]> featureEdges)
    {
        Count++;
        switch (o.Outcome)
        {
            case ScoringOutcome.Error:
                Errors++;
                return;
            case ScoringOutcome.TimedOut:
                TimedOut++;
                Latency.Add(o.LatencyMs);
                return;
            case ScoringOutcome.FeaturesUnavailable:
                FeaturesUnavailable++;
                return;
        }

        Scored++;
        Latency.Add(o.LatencyMs);
        Prediction.Add(o.Score);
        if (o.Features is { } features)
        {
            Inputs++;
            foreach (var token in o.Degraded ?? [])
            {
                Degraded[token] = Degraded.GetValueOrDefault(token) + 1;
            }

            foreach (var (name, value) in features)
            {
                if (!Features.TryGetValue(name, out var h))
                {
                    Features[name] = h = new Histogram(featureEdges(name));
                }

                h.Add(value);
            }
        }

        if (o.ChampionScore is { } champion)
        {
            Pairs++;
            Agreements += o.Agrees == true ? 1 : 0;
            Delta.Add(o.Score - champion);
            ChampionPrediction.Add(champion);
            KeepForRank(new RankPair(o.SampleKey, champion, o.Score));
        }
    }

    private void KeepForRank(RankPair pair)
    {
        if (RankSample.Count >= RankSampleSize && pair.Key >= RankSample[^1].Key)
        {
            return;
        }

        var at = RankSample.FindIndex(p => p.Key >= pair.Key);
        if (at >= 0 && RankSample[at].Key == pair.Key)
        {
            return; // the same request, already kept
        }

        RankSample.Insert(at < 0 ? RankSample.Count : at, pair);
        if (RankSample.Count > RankSampleSize)
        {
            RankSample.RemoveAt(RankSample.Count - 1);
        }
    }
}
