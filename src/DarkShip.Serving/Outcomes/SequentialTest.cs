using System.Globalization;
using DarkShip.Serving.Ladder;

namespace DarkShip.Serving.Outcomes;

/// <summary>Count, mean and variance of a stream (Welford's update), so a test reads its arms in one pass.</summary>
public struct RunningMoments
{
    /// <summary>Values seen.</summary>
    public long Count { get; private set; }

    /// <summary>Their mean.</summary>
    public double Mean { get; private set; }

    /// <summary>Sum of squared deviations from the mean.</summary>
    public double SquaredDeviations { get; private set; }

    /// <summary>The sample variance (n − 1), or NaN below two values.</summary>
    public readonly double Variance => Count > 1 ? SquaredDeviations / (Count - 1) : double.NaN;

    /// <summary>Adds <paramref name="value"/>.</summary>
    public void Add(double value)
    {
        Count++;
        var delta = value - Mean;
        Mean += delta / Count;
        SquaredDeviations += delta * (value - Mean);
    }
}

/// <summary>The sequential test's settings, from the model's promotion rules.</summary>
/// <param name="Alpha">The chance of a false decision, however often the test is checked.</param>
/// <param name="MinEffect">The relative improvement of the metric the test is tuned to find (its mixing scale τ is this share of the champion's mean loss).</param>
/// <param name="MinOutcomes">Labelled predictions each arm needs before any decision.</param>
public sealed record SequentialSettings(double Alpha, double MinEffect, long MinOutcomes);

/// <summary>One look at an experiment.</summary>
/// <param name="Decision">Which arm is better, if the evidence is enough.</param>
/// <param name="Difference">Champion mean loss − challenger mean loss (positive: the challenger is better).</param>
/// <param name="StandardError">The difference's standard error.</param>
/// <param name="LogLikelihoodRatio">ln Λ, the mixture likelihood ratio against "no difference".</param>
/// <param name="LogThreshold">ln(1/α): a decision is made once ln Λ reaches it.</param>
/// <param name="Summary">In words.</param>
public sealed record SequentialResult(ExperimentDecision Decision, double Difference, double StandardError, double LogLikelihoodRatio, double LogThreshold, string Summary)
{
    /// <summary>min(1, 1/Λ): an always-valid p-value for this look.</summary>
    public double PValue => Math.Min(1, Math.Exp(-LogLikelihoodRatio));
}

/// <summary>
/// The mixture sequential probability ratio test (mSPRT; Johari, Pekelis and Walsh, "Always valid
/// inference", 2017) on the difference of two arms' mean per-prediction loss. With the estimate
/// Δ̂ ~ N(Δ, V), V = s²₁/n₁ + s²₂/n₂, and a normal mixture N(0, τ²) over the alternative, the
/// likelihood ratio against Δ = 0 is Λ = √(V/(V+τ²)) · exp(τ²Δ̂² / (2V(V+τ²))). Λ is a martingale under
/// the null, so stopping the first time Λ ≥ 1/α keeps the false-decision rate at or below α however
/// often it is checked: PromoteModels may look on every tick. Proven by simulation in the tests.
/// </summary>
public static class MixtureSequentialTest
{
    /// <summary>ln Λ for an estimate with <paramref name="variance"/> and mixing variance <paramref name="tauSquared"/>.</summary>
    public static double LogLikelihoodRatio(double estimate, double variance, double tauSquared) =>
        0.5 * Math.Log(variance / (variance + tauSquared)) + tauSquared * estimate * estimate / (2 * variance * (variance + tauSquared));

    /// <summary>Compares the arms' per-prediction losses (lower is better).</summary>
    public static SequentialResult Decide(RunningMoments champion, RunningMoments challenger, SequentialSettings settings)
    {
        var threshold = Math.Log(1 / settings.Alpha);
        if (champion.Count < settings.MinOutcomes || challenger.Count < settings.MinOutcomes)
        {
            return new SequentialResult(ExperimentDecision.Inconclusive, double.NaN, double.NaN, 0, threshold,
                $"{challenger.Count} challenger and {champion.Count} champion outcomes of {settings.MinOutcomes} each");
        }

        var difference = champion.Mean - challenger.Mean;
        var variance = champion.Variance / champion.Count + challenger.Variance / challenger.Count;
        if (!(variance > 0))
        {
            return new SequentialResult(ExperimentDecision.Inconclusive, difference, 0, 0, threshold, "no variation in the losses yet");
        }

        var tau = settings.MinEffect * Math.Abs(champion.Mean);
        var tauSquared = tau > 0 ? tau * tau : variance;
        var log = LogLikelihoodRatio(difference, variance, tauSquared);
        var se = Math.Sqrt(variance);
        var decision = log < threshold ? ExperimentDecision.Inconclusive
            : difference > 0 ? ExperimentDecision.ChallengerBetter
            : ExperimentDecision.ChampionBetter;
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"mean loss {challenger.Mean:0.#####} (challenger, n={challenger.Count}) vs {champion.Mean:0.#####} (champion, n={champion.Count}); difference {difference:0.#####} ± {se:0.#####}; ln Λ {log:0.##} of {threshold:0.##}");
        return new SequentialResult(decision, difference, se, log, threshold, summary);
    }
}
