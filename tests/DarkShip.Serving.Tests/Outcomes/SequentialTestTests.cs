using DarkShip.Serving.Ladder;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Serving.Tests.Outcomes;

/// <summary>
/// The mixture SPRT proven by simulation: experiments on a fraud-like population (about 13 % positives), the
/// experiment arm getting 10 % of traffic, the test checked every 100 challenger outcomes — as often as
/// PromoteModels would look — up to 6,000 challenger outcomes (54,000 champion outcomes).
/// </summary>
public sealed class SequentialTestTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Experiments = 400;
    private const int Horizon = 6000;
    private const int LookEvery = 100;
    private const double ChampionNoise = 1.0;
    private static readonly SequentialSettings Settings = new(Alpha: 0.05, MinEffect: 0.05, MinOutcomes: 500);

    [Fact]
    public void AA_experiments_decide_in_at_most_alpha_of_runs_however_often_checked()
    {
        var (challengerBetter, championBetter, _) = Simulate(seed: 1, challengerNoise: ChampionNoise, Decide);
        var falseDecisions = (challengerBetter + championBetter) / (double)Experiments;
        output.WriteLine($"A/A: {challengerBetter} promotions and {championBetter} rollbacks in {Experiments} experiments");
        Assert.True(falseDecisions <= Settings.Alpha, $"A/A decided in {falseDecisions:P1} of {Experiments} experiments; α is {Settings.Alpha:P0}");
    }

    [Fact]
    public void The_simulation_is_sharp_enough_to_see_peeking_inflate_a_fixed_horizon_test()
    {
        // The same A/A runs judged by a z-test at 5 % on every look: the classic peeking error, which mSPRT exists to avoid.
        var (challengerBetter, championBetter, _) = Simulate(seed: 1, challengerNoise: ChampionNoise, (champion, challenger) =>
        {
            if (challenger.Count < Settings.MinOutcomes)
            {
                return ExperimentDecision.Inconclusive;
            }

            var z = (champion.Mean - challenger.Mean) / Math.Sqrt(champion.Variance / champion.Count + challenger.Variance / challenger.Count);
            return z > 1.96 ? ExperimentDecision.ChallengerBetter : z < -1.96 ? ExperimentDecision.ChampionBetter : ExperimentDecision.Inconclusive;
        });
        output.WriteLine($"A/A with a z-test on every look: {challengerBetter + championBetter} decisions in {Experiments} experiments");
        Assert.True((challengerBetter + championBetter) / (double)Experiments > 2 * Settings.Alpha, $"peeking z-test decided in {(challengerBetter + championBetter) / (double)Experiments:P1}");
    }

    /// <summary>
    /// The stated power (README, "Experiments"): a challenger whose scores carry half the champion's
    /// noise (log loss about 10 % lower: 0.320 against 0.355) is promoted within 6,000 experiment-arm outcomes in at least
    /// 80 % of experiments, and never rolled back.
    /// </summary>
    [Fact]
    public void AB_experiments_with_a_real_improvement_promote_with_the_stated_power()
    {
        var (challengerBetter, championBetter, _) = Simulate(seed: 2, challengerNoise: ChampionNoise / 2, Decide);
        output.WriteLine($"A/B: {challengerBetter} promotions and {championBetter} rollbacks in {Experiments} experiments");
        Assert.True(challengerBetter / (double)Experiments >= 0.8, $"promoted in {challengerBetter / (double)Experiments:P1} of {Experiments}");
        Assert.Equal(0, championBetter);
    }

    [Fact]
    public void A_worse_challenger_is_found_worse()
    {
        var (challengerBetter, championBetter, _) = Simulate(seed: 3, challengerNoise: ChampionNoise * 2, Decide);
        output.WriteLine($"A/B, worse challenger: {challengerBetter} promotions and {championBetter} rollbacks in {Experiments} experiments");
        Assert.Equal(0, challengerBetter);
        Assert.True(championBetter / (double)Experiments >= 0.8, $"rolled back in {championBetter / (double)Experiments:P1}");
    }

    [Fact]
    public void The_likelihood_ratio_equals_the_mixture_integral()
    {
        // Λ = ∫ φ(Δ̂; θ, V) φ(θ; 0, τ²) dθ / φ(Δ̂; 0, V), integrated numerically.
        foreach (var (estimate, variance, tau2) in new[] { (0.01, 1e-4, 4e-4), (-0.03, 2e-4, 1e-4), (0.0, 1e-4, 1e-4), (0.05, 1e-4, 1e-3) })
        {
            double Normal(double x, double mean, double v) => Math.Exp(-(x - mean) * (x - mean) / (2 * v)) / Math.Sqrt(2 * Math.PI * v);
            var sd = Math.Sqrt(tau2);
            const int steps = 200_000;
            double integral = 0, h = 20 * sd / steps;
            for (var i = 0; i <= steps; i++)
            {
                var theta = -10 * sd + i * h;
                integral += (i is 0 or steps ? 0.5 : 1) * Normal(estimate, theta, variance) * Normal(theta, 0, tau2) * h;
            }

            var expected = Math.Log(integral / Normal(estimate, 0, variance));
            Assert.Equal(expected, MixtureSequentialTest.LogLikelihoodRatio(estimate, variance, tau2), 6);
        }
    }

    [Fact]
    public void No_decision_before_the_minimum_outcomes()
    {
        RunningMoments champion = default, challenger = default;
        for (var i = 0; i < 499; i++)
        {
            champion.Add(1.0 + (i % 2));
            challenger.Add(0.1 + (i % 2) * 0.01);
        }

        var result = MixtureSequentialTest.Decide(champion, challenger, Settings);
        Assert.Equal(ExperimentDecision.Inconclusive, result.Decision);
        Assert.Contains("499 challenger", result.Summary);
    }

    private static ExperimentDecision Decide(RunningMoments champion, RunningMoments challenger) =>
        MixtureSequentialTest.Decide(champion, challenger, Settings).Decision;

    /// <summary>Runs the experiments; each stops at its first decision or at the horizon.</summary>
    private static (int ChallengerBetter, int ChampionBetter, int Inconclusive) Simulate(int seed, double challengerNoise, Func<RunningMoments, RunningMoments, ExperimentDecision> decide)
    {
        var random = new Random(seed);
        int better = 0, worse = 0, none = 0;
        for (var e = 0; e < Experiments; e++)
        {
            RunningMoments champion = default, challenger = default;
            var decision = ExperimentDecision.Inconclusive;
            while (challenger.Count < Horizon && decision == ExperimentDecision.Inconclusive)
            {
                for (var i = 0; i < LookEvery; i++)
                {
                    challenger.Add(Loss(random, challengerNoise));
                    for (var k = 0; k < 9; k++)
                    {
                        champion.Add(Loss(random, ChampionNoise));
                    }
                }

                decision = decide(champion, challenger);
            }

            _ = decision switch
            {
                ExperimentDecision.ChallengerBetter => better++,
                ExperimentDecision.ChampionBetter => worse++,
                _ => none++,
            };
        }

        return (better, worse, none);
    }

    /// <summary>One request: a true log-odds, its label, and the log loss of a model that sees the log-odds through noise.</summary>
    private static double Loss(Random random, double noise)
    {
        var z = -2.5 + 1.5 * Gaussian(random);
        var y = random.NextDouble() < 1 / (1 + Math.Exp(-z)) ? 1 : 0;
        var p = 1 / (1 + Math.Exp(-(z + noise * Gaussian(random))));
        return OutcomeMetrics.BinaryLogLoss(p, y);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
