using DarkShip.Serving.Ladder;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Serving.Tests.Ladder;

public class ModelPromoterTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    private readonly InMemoryModelRegistry registry = new();
    private readonly InMemoryModelEventLog audit = new();
    private readonly InMemoryMonitoringStore aggregates = new();
    private readonly FakeAnalysis analysis = new();
    private readonly FakeSignals signals = new();
    private long sequence;

    private ModelLadder Ladder => new(registry, audit, time, NullLogger<ModelLadder>.Instance);

    private ModelPromoter Promoter(IModelRegistry? reader = null) =>
        new(reader ?? registry, new ModelLadder(registry, audit, time, NullLogger<ModelLadder>.Instance), aggregates, analysis, signals, time, NullLogger<ModelPromoter>.Instance);

    /// <summary>fraud 1 champion; fraud 2 registered and moved to <paramref name="stage"/> at <paramref name="share"/>.</summary>
    private async Task LadderAsync(ModelStage stage, double share)
    {
        var actor = new LadderActor("test", "setup");
        foreach (var v in new[] { "1", "2" })
        {
            await Ladder.RegisterAsync(new ModelVersion("fraud", v, ModelStage.Registered, 0, "m", "a", "j", "b", DateTimeOffset.UnixEpoch), actor);
        }

        await Ladder.ApplyAsync(new LadderCommand.Promote("fraud", "1"), actor);
        if (stage is ModelStage.Shadow or ModelStage.Experiment)
        {
            await Ladder.ApplyAsync(new LadderCommand.Shadow("fraud", "2", stage == ModelStage.Shadow ? share : 100), actor);
        }

        if (stage == ModelStage.Experiment)
        {
            await Ladder.ApplyAsync(new LadderCommand.Experiment("fraud", "2", share), actor);
        }

        time.Advance(TimeSpan.FromMinutes(1));
    }

    private async Task<ModelVersion> VersionAsync(string version) => (await registry.ReadIfChangedAsync(null))!.Of("fraud").Single(v => v.Version == version);

    /// <summary>Counts <paramref name="count"/> scorings of <paramref name="version"/> in its current stage epoch, as ShadowScore would.</summary>
    private async Task ObserveAsync(string version, int count, int errors = 0, double latencyMs = 2, Func<int, float>? score = null, Func<int, float>? champion = null)
    {
        var v = await VersionAsync(version);
        var observations = Enumerable.Range(0, count).Select(i => i < errors
            ? new Observation(++sequence, ScoringOutcome.Error, latencyMs)
            : new Observation(++sequence, ScoringOutcome.Scored, latencyMs, score?.Invoke(i) ?? 0.1f, null, champion?.Invoke(i) ?? score?.Invoke(i) ?? 0.1f, true, (ulong)sequence)).ToList();
        var key = new AggregateKey("fraud", version, v.ChangedAt, time.GetUtcNow().AddSeconds(-time.GetUtcNow().Second));
        await aggregates.UpdateAsync(key, w =>
        {
            var window = w ?? new WindowAggregate(key, "shadow", Histogram.ProbabilityEdges);
            window.Apply("0", observations, _ => Histogram.DecadeEdges);
            return window;
        });
    }

    private async Task RulesAsync(params string[] sets)
    {
        var rules = (await registry.ReadIfChangedAsync(null))!.RulesFor("fraud");
        foreach (var set in sets)
        {
            rules = rules.With(set);
        }

        Assert.True(await registry.TrySetRulesAsync("fraud", rules));
    }

    private async Task<List<ModelEvent>> EventsByPromoterAsync() => [.. (await audit.ReadAsync("fraud")).Where(e => e.Actor == ModelPromoter.Actor)];

    [Fact]
    public async Task Shadow_WithFewerSamplesThanTheRule_Holds()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 999);

        var decisions = await Promoter().RunAsync();

        Assert.Contains(decisions, d => d.Version == "2" && d.Outcome == PromotionOutcome.Held && d.Reason.Contains("999 of 1000 samples", StringComparison.Ordinal));
        Assert.Equal((ModelStage.Shadow, 1.0), ((await VersionAsync("2")).Stage, (await VersionAsync("2")).SharePercent));
    }

    [Fact]
    public async Task Shadow_WithEnoughSamplesWithinBounds_RampsToTheNextStep_WithItsEvidenceAudited()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 1000);

        await Promoter().RunAsync();

        Assert.Equal((ModelStage.Shadow, 10.0), ((await VersionAsync("2")).Stage, (await VersionAsync("2")).SharePercent));
        var e = Assert.Single(await EventsByPromoterAsync());
        Assert.Equal(("shadow", 1.0, 10.0), (e.Action, e.FromShare, e.ToShare));
        Assert.Equal("1000", e.Evidence["samples"]);
        Assert.Equal("0", e.Evidence["errorRate"]);
        Assert.Equal("1000", e.Evidence["rule.minSamples"]);
        Assert.Contains("ramp", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ramp_CountsOnlyTheSamplesOfTheCurrentStep()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 1000);
        await Promoter().RunAsync(); // 1 → 10 %: a new epoch
        time.Advance(TimeSpan.FromMinutes(5));

        var decisions = await Promoter().RunAsync();

        Assert.Equal(10.0, (await VersionAsync("2")).SharePercent);
        Assert.Contains(decisions, d => d.Version == "2" && d.Reason.StartsWith("0 of 1000 samples", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shadow_AtFullShareWithEnoughSamples_EntersAnExperimentAtTheRuleShare()
    {
        await LadderAsync(ModelStage.Shadow, 100);
        await RulesAsync("experimentShare=5");
        await ObserveAsync("2", 1000);

        await Promoter().RunAsync();

        var v = await VersionAsync("2");
        Assert.Equal((ModelStage.Experiment, 5.0), (v.Stage, v.SharePercent));
        Assert.Equal(ModelStage.Champion, (await VersionAsync("1")).Stage);
    }

    [Fact]
    public async Task Shadow_ErrorRateAboveTheBound_IsRolledBack()
    {
        await LadderAsync(ModelStage.Shadow, 10);
        await ObserveAsync("2", 300, errors: 30);

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.RolledBack, (await VersionAsync("2")).Stage);
        var e = Assert.Single(await EventsByPromoterAsync());
        Assert.Equal("0.1", e.Evidence["errorRate"]);
        Assert.Contains("error rate 0.1 is above 0.01", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shadow_P99LatencyAboveTheBound_Holds()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 1000, latencyMs: 150);

        var decisions = await Promoter().RunAsync();

        Assert.Equal(1.0, (await VersionAsync("2")).SharePercent);
        Assert.Contains(decisions, d => d.Version == "2" && d.Reason.Contains("p99 latency 200 ms is above 100 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shadow_PredictionsShiftedFromTheChampionsOnTheSameRequests_Holds()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 1000, score: i => 0.9f, champion: i => 0.1f);

        var decisions = await Promoter().RunAsync();

        Assert.Equal(1.0, (await VersionAsync("2")).SharePercent);
        Assert.Contains(decisions, d => d.Version == "2" && d.Reason.Contains("prediction shift against the champion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RulesStoredInTheRegistry_AreWhatTheTimerApplies()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await RulesAsync("minSamples=20", "shadowRamp=1,50,100");
        await ObserveAsync("2", 20);

        await Promoter().RunAsync();

        Assert.Equal(50.0, (await VersionAsync("2")).SharePercent);
    }

    [Fact]
    public async Task Disabled_MovesNothing()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await RulesAsync("enabled=false");
        await ObserveAsync("2", 5000);

        Assert.Empty(await Promoter().RunAsync());
        Assert.Equal(1.0, (await VersionAsync("2")).SharePercent);
    }

    [Fact]
    public async Task Experiment_AnalysisFindsTheChallengerBetter_IsPromoted_AndTheOldChampionRetired()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await ObserveAsync("2", 500);
        analysis.Verdict = new ExperimentVerdict(ExperimentDecision.ChallengerBetter, "logloss 0.21 vs 0.24", new Dictionary<string, string> { ["pValue"] = "0.003" });

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.Champion, (await VersionAsync("2")).Stage);
        Assert.Equal(ModelStage.Retired, (await VersionAsync("1")).Stage);
        var promote = Assert.Single(await EventsByPromoterAsync(), e => e.Version == "2");
        Assert.Equal("0.003", promote.Evidence["pValue"]);
    }

    [Fact]
    public async Task Experiment_Inconclusive_Holds()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await ObserveAsync("2", 500);

        var decisions = await Promoter().RunAsync();

        Assert.Equal(ModelStage.Experiment, (await VersionAsync("2")).Stage);
        Assert.Contains(decisions, d => d.Version == "2" && d.Outcome == PromotionOutcome.Held);
        Assert.Empty(await EventsByPromoterAsync());
    }

    [Fact]
    public async Task Experiment_AnalysisFindsTheChampionBetter_IsRolledBack()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        analysis.Verdict = new ExperimentVerdict(ExperimentDecision.ChampionBetter, "worse", new Dictionary<string, string>());

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.RolledBack, (await VersionAsync("2")).Stage);
        Assert.Equal(ModelStage.Champion, (await VersionAsync("1")).Stage);
    }

    [Fact]
    public async Task Experiment_ErrorGuardrail_RollsItBack_EvenWhenTheAnalysisLikesIt()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await ObserveAsync("2", 400, errors: 40);
        analysis.Verdict = new ExperimentVerdict(ExperimentDecision.ChallengerBetter, "better", new Dictionary<string, string>());

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.RolledBack, (await VersionAsync("2")).Stage);
        Assert.Contains("guardrail on the experiment: error rate", Assert.Single(await EventsByPromoterAsync()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Experiment_GuardrailIgnoresTooFewSamples()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await ObserveAsync("2", 10, errors: 5);

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.Experiment, (await VersionAsync("2")).Stage);
    }

    [Fact]
    public async Task Experiment_DriftAlert_RollsItBack()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        signals.Alerts["2"] = "amount PSI 0.41";

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.RolledBack, (await VersionAsync("2")).Stage);
        Assert.Contains("drift alert: amount PSI 0.41", Assert.Single(await EventsByPromoterAsync()).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FreshChampion_LatencyGuardrail_RestoresThePreviousChampion()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await Ladder.ApplyAsync(new LadderCommand.Promote("fraud", "2"), new LadderActor("ana", "won"));
        time.Advance(TimeSpan.FromHours(1));
        await ObserveAsync("2", 300, latencyMs: 400);

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.RolledBack, (await VersionAsync("2")).Stage);
        Assert.Equal(ModelStage.Champion, (await VersionAsync("1")).Stage);
        Assert.Contains("guardrail on the new champion: p99 latency 500 ms", (await EventsByPromoterAsync()).First().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChampionPastItsProbation_IsNotRolledBackByTheTimer()
    {
        await LadderAsync(ModelStage.Experiment, 10);
        await Ladder.ApplyAsync(new LadderCommand.Promote("fraud", "2"), new LadderActor("ana", "won"));
        time.Advance(TimeSpan.FromHours(25));
        await ObserveAsync("2", 300, latencyMs: 400);

        await Promoter().RunAsync();

        Assert.Equal(ModelStage.Champion, (await VersionAsync("2")).Stage);
    }

    [Fact]
    public async Task OverlappingRuns_ThatReadTheSameRegistry_MakeTheTransitionOnce()
    {
        await LadderAsync(ModelStage.Shadow, 1);
        await ObserveAsync("2", 1000);
        var gate = new ReadTogetherRegistry(registry, readers: 2);

        var runs = await Task.WhenAll(Promoter(gate).RunAsync(), Promoter(gate).RunAsync());

        Assert.Equal(10.0, (await VersionAsync("2")).SharePercent);
        Assert.Single(await EventsByPromoterAsync());
        Assert.Equal([PromotionOutcome.Changed, PromotionOutcome.Conflict], runs.SelectMany(r => r).Where(d => d.Version == "2").Select(d => d.Outcome).Order());
    }

    private sealed class FakeAnalysis : IExperimentAnalysis
    {
        public ExperimentVerdict Verdict { get; set; } = new(ExperimentDecision.Inconclusive, "not yet", new Dictionary<string, string>());

        public Task<ExperimentVerdict> AnalyzeAsync(ModelVersion champion, ModelVersion challenger, PromotionRules rules, CancellationToken cancellationToken = default) => Task.FromResult(Verdict);
    }

    private sealed class FakeSignals : IGuardrailSignals
    {
        public Dictionary<string, string> Alerts { get; } = [];

        public Task<string?> DriftAlertAsync(ModelVersion version, CancellationToken cancellationToken = default) => Task.FromResult(Alerts.GetValueOrDefault(version.Version));
    }

    /// <summary>Holds every reader until <c>readers</c> of them have read, so their runs overlap for certain.</summary>
    private sealed class ReadTogetherRegistry(IModelRegistry inner, int readers) : IModelRegistry
    {
        private readonly TaskCompletionSource all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int arrived;

        public async Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default)
        {
            var snapshot = await inner.ReadIfChangedAsync(knownRevision, cancellationToken);
            if (Interlocked.Increment(ref arrived) >= readers)
            {
                all.TrySetResult();
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return snapshot;
        }

        public Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default) => inner.TryAddAsync(version, cancellationToken);

        public Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(versions, cancellationToken);

        public Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default) => inner.TrySetRulesAsync(model, rules, cancellationToken);
    }
}
