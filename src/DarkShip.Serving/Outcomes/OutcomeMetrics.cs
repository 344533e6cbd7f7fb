using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Outcomes;

/// <summary>One bin of a calibration curve: predictions in (Lower, Upper] (the first bin includes 0).</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Count, double MeanPredicted, double ObservedRate);

/// <summary>
/// How good a set of labelled predictions is. For a probability model: log loss, Brier score, ROC AUC,
/// precision and recall at the decision threshold, calibration over 10 equal-width bins; for a
/// multiclass model: log loss and accuracy; for a regression: MAE and RMSE. Values that do not apply
/// (or cannot be computed, like AUC with one class) are NaN. Checked against scikit-learn in
/// <c>tools/fixtures/generate_monitoring_fixtures.py</c>.
/// </summary>
public sealed record OutcomeMetrics(
    long Count,
    double Positives,
    double LogLoss,
    double Brier,
    double Auc,
    double Precision,
    double Recall,
    double Accuracy,
    double Mae,
    double Rmse,
    IReadOnlyList<CalibrationBin> Calibration)
{
    /// <summary>Probabilities are clipped to [ε, 1 − ε] for the log loss.</summary>
    public const double Epsilon = 1e-15;

    /// <summary>Number of calibration bins.</summary>
    public const int CalibrationBins = 10;

    /// <summary>The metrics of <paramref name="scores"/> against <paramref name="labels"/>, for a model whose output is <paramref name="output"/>.</summary>
    /// <param name="output">What the scores mean.</param>
    /// <param name="scores">One score vector per prediction (one value, or one per class).</param>
    /// <param name="labels">The labels, in the same order.</param>
    /// <param name="threshold">The decision threshold (probability models).</param>
    public static OutcomeMetrics From(ModelOutput output, IReadOnlyList<float[]> scores, IReadOnlyList<double> labels, double threshold = 0.5)
    {
        if (scores.Count != labels.Count)
        {
            throw new ArgumentException("One label per prediction.", nameof(labels));
        }

        return output switch
        {
            ModelOutput.Probability => Classification([.. scores.Select(s => (double)s[0])], [.. labels], threshold),
            ModelOutput.Multiclass => Multiclass(scores, labels),
            _ => Regression([.. scores.Select(s => (double)s[0])], [.. labels]),
        };
    }

    /// <summary>The per-prediction loss the promotion metric averages (lower is better), or null when the metric is not a mean of per-prediction losses.</summary>
    public static Func<float[], double, double>? LossOf(string metric, ModelOutput output) => metric.ToLowerInvariant() switch
    {
        "logloss" when output == ModelOutput.Multiclass => (s, y) => -Math.Log(Math.Clamp(s[(int)y], Epsilon, 1 - Epsilon)),
        "logloss" => (s, y) => BinaryLogLoss(s[0], y),
        "brier" => (s, y) => (s[0] - y) * (s[0] - y),
        "rmse" or "mse" => (s, y) => (s[0] - y) * (s[0] - y),
        "mae" => (s, y) => Math.Abs(s[0] - y),
        _ => null,
    };

    /// <summary>−[y ln p + (1 − y) ln(1 − p)] with p clipped.</summary>
    public static double BinaryLogLoss(double p, double y)
    {
        p = Math.Clamp(p, Epsilon, 1 - Epsilon);
        return -(y * Math.Log(p) + (1 - y) * Math.Log(1 - p));
    }

    /// <summary>The metrics of probabilities <paramref name="p"/> against 0/1 labels <paramref name="y"/>.</summary>
    public static OutcomeMetrics Classification(double[] p, double[] y, double threshold)
    {
        var n = p.Length;
        double logLoss = 0, brier = 0, positives = 0;
        long truePositive = 0, predictedPositive = 0;
        var bins = new (long Count, double Predicted, double Observed)[CalibrationBins];
        for (var i = 0; i < n; i++)
        {
            logLoss += BinaryLogLoss(p[i], y[i]);
            brier += (p[i] - y[i]) * (p[i] - y[i]);
            positives += y[i];
            if (p[i] >= threshold)
            {
                predictedPositive++;
                truePositive += y[i] >= 0.5 ? 1 : 0;
            }

            // Bin b holds (b/10, (b+1)/10], the first also 0: the count of inner edges below p.
            var b = 0;
            while (b < CalibrationBins - 1 && p[i] > (b + 1) / (double)CalibrationBins)
            {
                b++;
            }

            bins[b] = (bins[b].Count + 1, bins[b].Predicted + p[i], bins[b].Observed + y[i]);
        }

        var calibration = bins
            .Select((bin, b) => (bin, b))
            .Where(x => x.bin.Count > 0)
            .Select(x => new CalibrationBin(x.b / (double)CalibrationBins, (x.b + 1) / (double)CalibrationBins, x.bin.Count, x.bin.Predicted / x.bin.Count, x.bin.Observed / x.bin.Count))
            .ToList();
        return new OutcomeMetrics(
            n, positives,
            n == 0 ? double.NaN : logLoss / n,
            n == 0 ? double.NaN : brier / n,
            RocAuc(p, y),
            predictedPositive == 0 ? double.NaN : truePositive / (double)predictedPositive,
            positives == 0 ? double.NaN : truePositive / positives,
            double.NaN, double.NaN, double.NaN,
            calibration);
    }

    /// <summary>ROC AUC by the rank-sum (Mann–Whitney) formula, ties sharing their average rank.</summary>
    public static double RocAuc(double[] scores, double[] labels)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        double positives = 0, rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            var rank = (start + end) / 2.0 + 1; // average 1-based rank of the tie group
            for (var k = start; k <= end; k++)
            {
                if (labels[order[k]] >= 0.5)
                {
                    positives++;
                    rankSum += rank;
                }
            }

            start = end + 1;
        }

        var negatives = scores.Length - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    private static OutcomeMetrics Multiclass(IReadOnlyList<float[]> scores, IReadOnlyList<double> labels)
    {
        double logLoss = 0, correct = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            var label = (int)labels[i];
            var s = scores[i];
            logLoss += label >= 0 && label < s.Length ? -Math.Log(Math.Clamp(s[label], Epsilon, 1 - Epsilon)) : -Math.Log(Epsilon);
            var best = 0;
            for (var c = 1; c < s.Length; c++)
            {
                best = s[c] > s[best] ? c : best;
            }

            correct += best == label ? 1 : 0;
        }

        var n = scores.Count;
        return new OutcomeMetrics(n, double.NaN, n == 0 ? double.NaN : logLoss / n, double.NaN, double.NaN, double.NaN, double.NaN,
            n == 0 ? double.NaN : correct / n, double.NaN, double.NaN, []);
    }

    /// <summary>The metrics of predicted values <paramref name="p"/> against <paramref name="y"/>.</summary>
    public static OutcomeMetrics Regression(double[] p, double[] y)
    {
        double absolute = 0, squared = 0;
        for (var i = 0; i < p.Length; i++)
        {
            absolute += Math.Abs(p[i] - y[i]);
            squared += (p[i] - y[i]) * (p[i] - y[i]);
        }

        var n = p.Length;
        return new OutcomeMetrics(n, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN,
            n == 0 ? double.NaN : absolute / n, n == 0 ? double.NaN : Math.Sqrt(squared / n), []);
    }
}
