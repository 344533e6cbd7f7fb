using System.Globalization;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;

namespace DarkShip.Serving.Monitoring;

/// <summary>
/// DriftMonitor's methods and thresholds; bound from the <c>Drift</c> configuration section (app
/// settings <c>Drift__…</c>). The defaults and why:
/// <list type="bullet">
/// <item>Below <see cref="LargeSample"/> values a binned distance is mostly sampling noise, so a test that
/// accounts for the sample size decides: Kolmogorov–Smirnov for numeric features, chi-square for
/// categorical ones (warn at p &lt; 0.01, alert at p &lt; 0.001).</item>
/// <item>From <see cref="LargeSample"/> values on, every test rejects on trivial differences, so effect
/// sizes decide: PSI (0.1 warn, 0.25 alert — the industry's "moderate" and "significant" shift), and
/// the Wasserstein distance in baseline standard deviations for numeric features (0.1 / 0.25) or the
/// Jensen–Shannon distance for categorical ones (0.1 / 0.2); the worst of the two counts.</item>
/// <item>Missing and stale rates: an absolute rise of 5 points warns, of 20 points alerts.</item>
/// <item>Fewer than <see cref="MinSamples"/> values: no verdict.</item>
/// </list>
/// </summary>
public sealed class DriftOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Drift";

    /// <summary>Length of the recent window (and of the previous one), in minutes. Default 60.</summary>
    public int WindowMinutes { get; set; } = 60;

    /// <summary>Fewest values for a verdict. Default 100.</summary>
    public long MinSamples { get; set; } = 100;

    /// <summary>From this many values on, effect sizes decide instead of tests. Default 1000.</summary>
    public long LargeSample { get; set; } = 1000;

    /// <summary>PSI warning threshold. Default 0.1.</summary>
    public double PsiWarn { get; set; } = 0.1;

    /// <summary>PSI alert threshold. Default 0.25.</summary>
    public double PsiAlert { get; set; } = 0.25;

    /// <summary>Jensen–Shannon distance warning threshold. Default 0.1.</summary>
    public double JensenShannonWarn { get; set; } = 0.1;

    /// <summary>Jensen–Shannon distance alert threshold. Default 0.2.</summary>
    public double JensenShannonAlert { get; set; } = 0.2;

    /// <summary>Wasserstein distance (in reference standard deviations) warning threshold. Default 0.1.</summary>
    public double WassersteinWarn { get; set; } = 0.1;

    /// <summary>Wasserstein distance alert threshold. Default 0.25.</summary>
    public double WassersteinAlert { get; set; } = 0.25;

    /// <summary>p-value below which a test warns. Default 0.01.</summary>
    public double PValueWarn { get; set; } = 0.01;

    /// <summary>p-value below which a test alerts. Default 0.001.</summary>
    public double PValueAlert { get; set; } = 0.001;

    /// <summary>Rise of a missing or stale rate (absolute) that warns. Default 0.05.</summary>
    public double RateWarn { get; set; } = 0.05;

    /// <summary>Rise of a missing or stale rate (absolute) that alerts. Default 0.2.</summary>
    public double RateAlert { get; set; } = 0.2;

    /// <summary>How long a report's alert holds for the guardrails, in minutes (a report older than this is stale). Default 120.</summary>
    public int AlertValidMinutes { get; set; } = 120;
}

/// <summary>The comparisons behind a drift report: pure functions of histograms and counts.</summary>
public static class DriftAnalysis
{
    /// <summary>The distribution of <paramref name="subject"/> in <paramref name="current"/> against <paramref name="reference"/>.</summary>
    public static DriftFinding Distribution(string subject, bool categorical, string referenceName, Histogram current, Histogram reference, DriftOptions options)
    {
        long n = current.Total, m = reference.Total;
        var kind = categorical ? "categorical" : "numeric";
        var psi = n > 0 && m > 0 ? current.Psi(reference) : double.NaN;
        var js = DriftStatistics.JensenShannon(current, reference);
        TestResult ks = new(double.NaN, double.NaN), chi = new(double.NaN, double.NaN);
        var wasserstein = double.NaN;
        if (categorical)
        {
            chi = DriftStatistics.ChiSquare(current, reference);
        }
        else
        {
            ks = DriftStatistics.KolmogorovSmirnov(current, reference);
            var scale = DriftStatistics.StandardDeviation(reference);
            wasserstein = scale > 0 ? DriftStatistics.Wasserstein(current, reference) / scale : double.NaN;
        }

        DriftStatus status;
        string reason;
        if (n < options.MinSamples || m < options.MinSamples)
        {
            (status, reason) = (DriftStatus.Insufficient, $"{n} values against {m}: fewer than {options.MinSamples}");
        }
        else if (Math.Min(n, m) < options.LargeSample)
        {
            var (name, p) = categorical ? ("chi-square", chi.PValue) : ("KS", ks.PValue);
            status = p < options.PValueAlert ? DriftStatus.Alert : p < options.PValueWarn ? DriftStatus.Warn : DriftStatus.Ok;
            reason = $"{name} p = {G(p)} on {Math.Min(n, m)} values";
        }
        else
        {
            var byPsi = Grade(psi, options.PsiWarn, options.PsiAlert);
            var (name, value, grade) = categorical
                ? ("JS", js, Grade(js, options.JensenShannonWarn, options.JensenShannonAlert))
                : ("Wasserstein", wasserstein, Grade(wasserstein, options.WassersteinWarn, options.WassersteinAlert));
            status = (DriftStatus)Math.Max((int)byPsi, (int)grade);
            reason = $"PSI {G(psi)}, {name} {G(value)}";
        }

        return new DriftFinding(subject, DriftMeasures.Distribution, referenceName, kind, n, m, psi, js, ks.Statistic, ks.PValue, wasserstein,
            chi.Statistic, chi.PValue, double.NaN, double.NaN, status, reason);
    }

    /// <summary>A rate (missing, stale) in the recent window against the reference's.</summary>
    public static DriftFinding Rate(string subject, string measure, string referenceName, long samples, double value, long referenceSamples, double reference, DriftOptions options)
    {
        var rise = value - reference;
        var status = samples < options.MinSamples || double.IsNaN(reference) ? DriftStatus.Insufficient
            : rise >= options.RateAlert ? DriftStatus.Alert
            : rise >= options.RateWarn ? DriftStatus.Warn
            : DriftStatus.Ok;
        return new DriftFinding(subject, measure, referenceName, "rate", samples, referenceSamples, double.NaN, double.NaN, double.NaN, double.NaN,
            double.NaN, double.NaN, double.NaN, value, reference, status, $"{G(value * 100)} % against {G(reference * 100)} %");
    }

    /// <summary>Every finding for one version: each feature and the prediction against the baseline and the previous window, and each feature's missing and stale rates.</summary>
    public static List<DriftFinding> Compare(ModelManifest manifest, TrainingBaseline baseline, WindowAggregate current, WindowAggregate previous, DriftOptions options)
    {
        var findings = new List<DriftFinding>();
        if (baseline.Prediction is { } expected && current.Prediction.Edges.AsSpan().SequenceEqual(expected.Edges))
        {
            findings.Add(Distribution("prediction", false, "baseline", current.Prediction, expected, options));
        }

        findings.Add(Distribution("prediction", false, "previous", current.Prediction, previous.Prediction, options));
        foreach (var feature in manifest.Features)
        {
            var categorical = feature.Type != ManifestFeatureType.Number;
            var now = current.Features.GetValueOrDefault(feature.Name) ?? new Histogram(baseline.FeatureEdges(feature.Name));
            var before = previous.Features.GetValueOrDefault(feature.Name) ?? new Histogram(now.Edges);
            if (baseline.Features.TryGetValue(feature.Name, out var trained) && trained.Edges.AsSpan().SequenceEqual(now.Edges))
            {
                findings.Add(Distribution(feature.Name, categorical, "baseline", now, trained, options));
            }

            if (before.Edges.AsSpan().SequenceEqual(now.Edges))
            {
                findings.Add(Distribution(feature.Name, categorical, "previous", now, before, options));
            }

            var missingNow = MissingRate(current, feature, now);
            var missingReference = baseline.MissingRates.TryGetValue(feature.Name, out var trainedMissing) ? ("baseline", trainedMissing, baseline.Features[feature.Name].Total)
                : ("previous", MissingRate(previous, feature, before), previous.Inputs);
            findings.Add(Rate(feature.Name, DriftMeasures.MissingRate, missingReference.Item1, current.Inputs, missingNow, missingReference.Item3, missingReference.Item2, options));
            findings.Add(Rate(feature.Name, DriftMeasures.StaleRate, "previous", current.Inputs, StaleRate(current, feature), previous.Inputs, StaleRate(previous, feature), options));
        }

        return findings;
    }

    /// <summary>
    /// Share of scorings where the feature had no usable value: its group could not be read or had no row,
    /// or the value was absent or invalid (and so fell back to the default), or the input was NaN.
    /// </summary>
    public static double MissingRate(WindowAggregate window, ManifestFeature feature, Histogram histogram)
    {
        if (window.Inputs == 0)
        {
            return double.NaN;
        }

        long count = 0;
        foreach (var fallback in (ReadOnlySpan<FeatureFallback>)[FeatureFallback.Missing, FeatureFallback.Invalid])
        {
            count += window.Degraded.GetValueOrDefault(DegradedReasons.Feature(feature.Name, fallback));
        }

        if (feature.Group is { } group)
        {
            foreach (var status in GroupStatus.WithoutARow)
            {
                count += window.Degraded.GetValueOrDefault(DegradedReasons.Group(group, status));
            }
        }

        // A NaN input that is not a fallback (a caller sending null) counts too; a fallback to a NaN default is already counted.
        var nanDefault = float.IsNaN(feature.Default);
        return Math.Min(1, (nanDefault ? Math.Max(count, histogram.Missing) : count + histogram.Missing) / (double)window.Inputs);
    }

    /// <summary>Share of scorings whose stored value was older than the feature's <c>maxAgeSeconds</c>.</summary>
    public static double StaleRate(WindowAggregate window, ManifestFeature feature) =>
        window.Inputs == 0 ? double.NaN : window.Degraded.GetValueOrDefault(DegradedReasons.Feature(feature.Name, FeatureFallback.Stale)) / (double)window.Inputs;

    private static DriftStatus Grade(double value, double warn, double alert) =>
        double.IsNaN(value) ? DriftStatus.Ok : value >= alert ? DriftStatus.Alert : value >= warn ? DriftStatus.Warn : DriftStatus.Ok;

    private static string G(double d) => d.ToString("0.####", CultureInfo.InvariantCulture);
}
