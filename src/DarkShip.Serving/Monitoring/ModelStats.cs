using System.Globalization;

namespace DarkShip.Serving.Monitoring;

/// <summary>
/// A model version's windows summed over a span: what the promotion rules, the guardrails and
/// <c>models status</c> look at.
/// </summary>
public sealed record ModelStats(
    long Samples,
    long Errors,
    long TimedOut,
    long FeaturesUnavailable,
    double P50LatencyMs,
    double P99LatencyMs,
    long Pairs,
    double Agreement,
    double MeanDelta,
    double PredictionPsi,
    double RankCorrelation)
{
    /// <summary>No samples at all.</summary>
    public static readonly ModelStats Empty = From([]);

    /// <summary>Failed scorings (errors and time-outs) over samples; 0 when there are none.</summary>
    public double ErrorRate => Samples == 0 ? 0 : (double)(Errors + TimedOut) / Samples;

    /// <summary>Sums <paramref name="windows"/> (all of one version).</summary>
    public static ModelStats From(IReadOnlyList<WindowAggregate> windows)
    {
        if (windows.Count == 0)
        {
            return new ModelStats(0, 0, 0, 0, double.NaN, double.NaN, 0, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sum = new WindowAggregate(windows[0].Key, windows[0].Arm, windows[0].Prediction.Edges);
        foreach (var w in windows)
        {
            sum.Merge(w);
        }

        var meanDelta = double.NaN;
        if (sum.Pairs > 0)
        {
            // Mean of the paired differences, from the sample (exact when fewer pairs than the sample size).
            meanDelta = sum.RankSample.Count == 0 ? double.NaN : sum.RankSample.Average(p => (double)p.Challenger - p.Champion);
        }

        return new ModelStats(
            sum.Attempts,
            sum.Errors,
            sum.TimedOut,
            sum.FeaturesUnavailable,
            sum.Latency.UpperQuantile(0.5),
            sum.Latency.UpperQuantile(0.99),
            sum.Pairs,
            sum.Pairs == 0 ? double.NaN : (double)sum.Agreements / sum.Pairs,
            meanDelta,
            sum.Pairs == 0 ? double.NaN : sum.Prediction.Psi(sum.ChampionPrediction),
            Spearman(sum.RankSample));
    }

    /// <summary>The figures as audit evidence: name → invariant text.</summary>
    public IReadOnlyDictionary<string, string> ToEvidence() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["samples"] = Samples.ToString(CultureInfo.InvariantCulture),
        ["errors"] = Errors.ToString(CultureInfo.InvariantCulture),
        ["timedOut"] = TimedOut.ToString(CultureInfo.InvariantCulture),
        ["featuresUnavailable"] = FeaturesUnavailable.ToString(CultureInfo.InvariantCulture),
        ["errorRate"] = Text(ErrorRate),
        ["p50LatencyMs"] = Text(P50LatencyMs),
        ["p99LatencyMs"] = Text(P99LatencyMs),
        ["pairs"] = Pairs.ToString(CultureInfo.InvariantCulture),
        ["agreement"] = Text(Agreement),
        ["meanDelta"] = Text(MeanDelta),
        ["predictionPsi"] = Text(PredictionPsi),
        ["rankCorrelation"] = Text(RankCorrelation),
    };

    private static string Text(double d) => double.IsNaN(d) ? "n/a" : d.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>Spearman's rank correlation of the pairs (average ranks for ties); NaN below 3 pairs or with no spread.</summary>
    public static double Spearman(IReadOnlyList<RankPair> pairs)
    {
        if (pairs.Count < 3)
        {
            return double.NaN;
        }

        var a = Ranks([.. pairs.Select(p => (double)p.Champion)]);
        var b = Ranks([.. pairs.Select(p => (double)p.Challenger)]);
        double ma = a.Average(), mb = b.Average(), cov = 0, va = 0, vb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            cov += (a[i] - ma) * (b[i] - mb);
            va += (a[i] - ma) * (a[i] - ma);
            vb += (b[i] - mb) * (b[i] - mb);
        }

        return va == 0 || vb == 0 ? double.NaN : cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
            {
                j++;
            }

            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = (i + j) / 2.0 + 1;
            }

            i = j + 1;
        }

        return ranks;
    }
}
