using DarkShip.Serving.Ladder;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Outcomes;

/// <summary>The experiment analysis over labelled predictions of the demo model's champion and an experiment (promotion metric: logloss).</summary>
public sealed class OutcomeExperimentAnalysisTests
{
    private readonly ServingHarness harness = new();
    private readonly InMemoryOutcomeStore store = new();
    private readonly Random random = new(11);

    [Fact]
    public async Task A_better_challenger_is_found_better_on_its_own_arm_with_the_evidence_for_the_audit()
    {
        var (champion, challenger) = await StartAsync();
        await ArmAsync(champion, PredictionService.ChampionArm, 9000, p => Noisy(p, 1.5));
        await ArmAsync(challenger, PredictionService.ExperimentArm, 1000, p => Noisy(p, 0.3));
        // The champion also scored the experiment's requests, unserved: not part of its arm.
        await ArmAsync(champion, PredictionService.ChampionArm, 1000, _ => 0.5, served: false);

        var verdict = await Analysis().AnalyzeAsync(champion, challenger, PromotionRules.Default);

        Assert.True(verdict.Decision == ExperimentDecision.ChallengerBetter, verdict.Summary);
        Assert.Equal("9000", verdict.Evidence["experiment.championOutcomes"]);
        Assert.Equal("1000", verdict.Evidence["experiment.challengerOutcomes"]);
        Assert.Equal("logloss", verdict.Evidence["experiment.metric"]);
        Assert.True(double.Parse(verdict.Evidence["experiment.logLikelihoodRatio"], System.Globalization.CultureInfo.InvariantCulture) >= Math.Log(20));
    }

    [Fact]
    public async Task A_challenger_better_on_log_loss_but_ranking_worse_is_held_by_the_auc_guardrail()
    {
        var (champion, challenger) = await StartAsync();
        // The champion ranks well but is badly calibrated; the challenger predicts the base rate for everyone.
        await ArmAsync(champion, PredictionService.ChampionArm, 5000, p => Math.Min(0.98, 0.5 + p));
        await ArmAsync(challenger, PredictionService.ExperimentArm, 2000, _ => 0.13);

        var verdict = await Analysis().AnalyzeAsync(champion, challenger, PromotionRules.Default);

        Assert.Equal(ExperimentDecision.Inconclusive, verdict.Decision);
        Assert.Contains("AUC guardrail", verdict.Summary);
        Assert.Equal("0.5", verdict.Evidence["experiment.challengerAuc"]);
    }

    [Fact]
    public async Task Too_few_outcomes_decide_nothing()
    {
        var (champion, challenger) = await StartAsync();
        await ArmAsync(champion, PredictionService.ChampionArm, 5000, p => Noisy(p, 1.0));
        await ArmAsync(challenger, PredictionService.ExperimentArm, 499, p => Noisy(p, 0.1));

        var verdict = await Analysis().AnalyzeAsync(champion, challenger, PromotionRules.Default);

        Assert.Equal(ExperimentDecision.Inconclusive, verdict.Decision);
        Assert.Contains("499 challenger", verdict.Summary);
    }

    private OutcomeExperimentAnalysis Analysis() => new(store, harness.Cache, harness.Time);

    private async Task<(ModelVersion Champion, ModelVersion Challenger)> StartAsync()
    {
        harness.SeedEntities();
        var champion = await harness.RegisterAsync("1", ModelStage.Champion);
        var challenger = await harness.RegisterAsync("2", ModelStage.Experiment, share: 10);
        await harness.Cache.RefreshAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        return (champion, challenger);
    }

    /// <summary>Labelled predictions of <paramref name="version"/>: each request's true probability p gives its label, and the model's score is <paramref name="score"/>(p).</summary>
    private async Task ArmAsync(ModelVersion version, string arm, int count, Func<double, double> score, bool served = true)
    {
        var labelled = new List<LabelledPrediction>();
        for (var i = 0; i < count; i++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(3));
            var p = 1 / (1 + Math.Exp(-(-2.5 + 1.5 * Gaussian())));
            var prediction = new LoggedPrediction(PredictionId.New(harness.Time), "fraud", version.Version, arm, served, harness.Time.GetUtcNow(), [(float)score(p)]);
            labelled.Add(new LabelledPrediction(prediction, random.NextDouble() < p ? 1 : 0, harness.Time.GetUtcNow().AddDays(5), null, null));
        }

        await store.SaveLabelsAsync(labelled);
    }

    private double Noisy(double p, double noise) => 1 / (1 + Math.Exp(-(Math.Log(p / (1 - p)) + noise * Gaussian())));

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
