using System.Text;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Reports;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Reports;

/// <summary>
/// The report's figures from the stores the system keeps, on the demo model: champion 1, challenger 2. Each
/// figure is checked against the component that owns it (PromoteModels' decision, DriftAnalysis on the same
/// window, the sequential test on the same losses), so the page cannot tell a different story than the ladder.
/// </summary>
public sealed class ModelReportBuilderTests
{
    private readonly ServingHarness harness = new();
    private readonly InMemoryModelEventLog events = new();
    private readonly InMemoryMonitoringStore aggregates = new();
    private readonly InMemoryOutcomeStore outcomes = new();
    private readonly DriftOptions drift = new();
    private long sequence;

    private ModelReportBuilder Builder => new(harness.Registry, events, aggregates, harness.Registry, outcomes, drift, harness.Time);

    private ReportRange LastHours(double hours) => ReportRange.Of(harness.Time.GetUtcNow().AddHours(-hours), harness.Time.GetUtcNow())!;

    [Fact]
    public void A_range_is_cut_into_at_most_48_buckets_of_a_round_length_and_an_empty_range_is_none()
    {
        var from = ServingHarness.Start;

        Assert.Equal(TimeSpan.FromMinutes(5), ReportRange.Of(from, from.AddHours(1))!.Bucket);
        Assert.Equal(TimeSpan.FromMinutes(30), ReportRange.Of(from, from.AddHours(24))!.Bucket);
        Assert.Equal(TimeSpan.FromHours(6), ReportRange.Of(from, from.AddDays(7))!.Bucket);
        Assert.Null(ReportRange.Of(from, from));
        Assert.Null(ReportRange.Of(from, from.AddTicks(-1)));
        var week = ReportRange.Of(from, from.AddDays(7))!;
        Assert.True((week.To - week.From).Ticks / week.Bucket.Ticks <= ReportRange.MaxBuckets);
    }

    [Fact]
    public async Task An_unknown_model_or_version_is_said_plainly()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);

        var model = await Assert.ThrowsAsync<ReportInputException>(() => Builder.BuildAsync("nosuch", null, LastHours(1)));
        var version = await Assert.ThrowsAsync<ReportInputException>(() => Builder.BuildAsync("fraud", "9", LastHours(1)));

        Assert.Equal("No versions of 'nosuch' are registered.", model.Message);
        Assert.Equal("'fraud' has no version '9' (registered: 1).", version.Message);
    }

    [Fact]
    public async Task A_holding_shadow_is_concluded_in_PromoteModels_own_words()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Shadow, share: 10);
        await ObserveAsync("2", 420, i => 0.2f + (i % 7 * 0.1f), i => 0.25f);
        await ObserveAsync("1", 4200, _ => 0.25f);
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        var report = await Builder.BuildAsync("fraud", null, LastHours(1));
        var promoter = new ModelPromoter(harness.Registry, new ModelLadder(harness.Registry, events, harness.Time, NullLogger<ModelLadder>.Instance),
            aggregates, new NoExperimentAnalysis(), new NoGuardrailSignals(), harness.Time, NullLogger<ModelPromoter>.Instance);
        var held = Assert.Single(await promoter.RunAsync(), d => d.Version == "2");

        Assert.Equal(PromotionOutcome.Held, held.Outcome);
        Assert.Equal(2, report.Conclusions.Count);
        Assert.StartsWith("v1 is the champion (since 2026-11-20 12:00Z).", report.Conclusions[0], StringComparison.Ordinal);
        Assert.StartsWith($"v2 holds at shadow 10 %: {held.Reason}.", report.Conclusions[1], StringComparison.Ordinal);
        Assert.StartsWith("v2 holds at shadow 10 %: 420 of 1000 samples at this step.", report.Conclusions[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_challenger_is_compared_with_the_champion_per_bucket_and_in_sum()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Shadow, share: 100);
        await ObserveAsync("2", 300, i => i % 2 == 0 ? 0.9f : 0.1f, _ => 0.1f, latencyMs: 3);
        await ObserveAsync("1", 300, _ => 0.1f, latencyMs: 30);
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        await ObserveAsync("2", 200, _ => 0.1f, _ => 0.1f, latencyMs: 3);
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        var report = await Builder.BuildAsync("fraud", null, LastHours(1));

        var c = Assert.Single(report.Challengers);
        Assert.Equal(("2", "1"), (c.Challenger.Version, c.ChampionVersion));
        Assert.Equal(2, c.Windows.Count);
        Assert.Equal([300L, 200L], c.Windows.Select(w => w.Challenger.Pairs));
        Assert.Equal([300L, 0L], c.Windows.Select(w => w.Champion.Samples));
        Assert.Equal(0.5, c.Windows[0].Challenger.Agreement);
        Assert.Equal(1.0, c.Windows[1].Challenger.Agreement);
        Assert.Equal(500, c.Overall.Pairs);
        Assert.Equal((350 / 500.0), c.Overall.Agreement, 12);
        Assert.Equal(500, c.ChampionPrediction.Total);
        Assert.Equal(500, c.Prediction.Total);
        Assert.Equal(150, c.Delta.Counts[^1]); // the 150 pairs 0.8 apart, above the top edge (0.5)
        Assert.Equal(5, c.Windows[0].Challenger.P50LatencyMs);
        Assert.Equal(50, c.Windows[0].Champion.P50LatencyMs);
    }

    [Fact]
    public async Task Drift_is_graded_per_bucket_as_DriftMonitor_grades_a_window_and_an_open_alert_is_dated_from_its_first_bucket()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);
        var start = harness.Time.GetUtcNow();
        var trained = TrainingBaseline.From(DemoManifest()).Features["amount"].Edges;
        await ObserveAsync("1", 1500, _ => 0.1f, amount: i => (float)((trained[i % 10] + trained[(i % 10) + 1]) / 2)); // 12:00: as trained, a tenth in each decile
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await ObserveAsync("1", 1500, _ => 0.1f, amount: i => 5000 + i);       // 12:05: far above anything trained on
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await ObserveAsync("1", 1500, _ => 0.1f, amount: i => 6000 + i);       // 12:10: still
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        var report = await Builder.BuildAsync("fraud", null, ReportRange.Of(start, harness.Time.GetUtcNow())!);

        var d = Assert.Single(report.Drift);
        Assert.Equal(["prediction", "amount", "hour_of_day", "txn_count_7d", "avg_amount_30d", "account_age_days", "is_verified", "store_chargeback_rate_90d", "store_category"], d.Subjects);
        Assert.Equal(3, d.Windows.Count);
        var manifest = DemoManifest();
        var expected = DriftAnalysis.Compare(manifest, TrainingBaseline.From(manifest), Sum(await aggregates.ReadAsync("fraud", "1", null, start.AddMinutes(5)), start.AddMinutes(5), start.AddMinutes(10)),
            Sum(await aggregates.ReadAsync("fraud", "1", null, start), start, start.AddMinutes(5)), drift);
        Assert.Equal(expected, d.Windows[1].Findings);
        Assert.Equal(DriftStatus.Ok, Amount(d.Windows[0]).Status);
        Assert.Equal(DriftStatus.Alert, Amount(d.Windows[1]).Status);
        var (finding, since) = Assert.Single(d.OpenAlerts(), a => a.Finding.Subject == "amount");
        Assert.Equal(start.AddMinutes(5), since);
        Assert.Equal(DriftStatus.Alert, finding.Status);
        Assert.StartsWith("v1 is the champion (since 2026-11-20 12:00Z). Drift alert: ", report.Conclusions[0], StringComparison.Ordinal);
        Assert.Contains($"amount PSI {finding.Psi:0.##} > 0.25 since 2026-11-20 12:05Z", report.Conclusions[0], StringComparison.Ordinal);

        static DriftFinding Amount(DriftWindow w) => w.Findings.Single(f => f.Subject == "amount" && f.Reference == "baseline" && f.Measure == DriftMeasures.Distribution);
    }

    [Fact]
    public async Task The_sequential_trace_of_a_shadow_ends_where_the_test_on_all_its_paired_losses_ends()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Shadow, share: 100);
        var random = new Random(7);
        var labelled = new List<LabelledPrediction>();
        for (var bucket = 0; bucket < 4; bucket++)
        {
            for (var i = 0; i < 300; i++)
            {
                var label = random.NextDouble() < 0.3 ? 1.0 : 0.0;
                var champion = (float)Math.Clamp(0.3 + ((label - 0.3) * 0.2) + ((random.NextDouble() - 0.5) * 0.2), 0.01, 0.99);
                var challenger = (float)Math.Clamp(0.3 + ((label - 0.3) * 0.6) + ((random.NextDouble() - 0.5) * 0.2), 0.01, 0.99);
                var at = harness.Time.GetUtcNow().AddMinutes((-60 + (bucket * 15)) + (i % 5)); // one 5-minute bucket per quarter hour
                labelled.Add(new LabelledPrediction(new LoggedPrediction($"p{bucket}-{i}", "fraud", "2", ShadowArmName, false, at, [challenger]), label, at.AddMinutes(1), "1", [champion]));
            }
        }

        await outcomes.SaveLabelsAsync(labelled);

        var report = await Builder.BuildAsync("fraud", null, LastHours(1));

        var o = Assert.Single(report.Outcomes);
        var trace = o.Sequential!;
        Assert.Equal("paired shadow requests", trace.Basis);
        RunningMoments champions = default, challengers = default;
        foreach (var l in labelled)
        {
            champions.Add(OutcomeMetrics.BinaryLogLoss(l.ChampionScores![0], l.Label));
            challengers.Add(OutcomeMetrics.BinaryLogLoss(l.Prediction.Scores[0], l.Label));
        }

        var expected = MixtureSequentialTest.Decide(champions, challengers, new SequentialSettings(0.05, 0.05, 500));
        Assert.Equal(4, trace.Points.Count);
        Assert.Equal(expected.LogLikelihoodRatio, trace.Points[^1].LogLikelihoodRatio, 9);
        Assert.Equal((expected.Decision, expected.Summary), (trace.Latest.Decision, trace.Latest.Summary));
        Assert.Equal(expected.Difference, trace.Latest.Difference, 12);
        Assert.Equal(0.0, trace.Points[0].LogLikelihoodRatio); // 300 outcomes, under minOutcomes (500): no evidence counted yet
        Assert.NotEqual(0.0, trace.Points[1].LogLikelihoodRatio);
        Assert.Equal(Math.Log(1 / 0.05), trace.LogThreshold, 12);
        Assert.Equal(ExperimentDecision.ChallengerBetter, trace.Latest.Decision);
        Assert.Equal(1200, o.Overall.Metrics.Count);
        Assert.Equal(1200, o.Overall.Paired!.Pairs);
    }

    [Fact]
    public async Task Only_the_asked_version_and_the_champion_are_reported_and_the_ladder_holds_the_ranges_moves()
    {
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Shadow, share: 1);
        await harness.RegisterAsync("3", ModelStage.Shadow, share: 1);
        var now = harness.Time.GetUtcNow();
        foreach (var (version, at) in new[] { ("2", now.AddHours(-3)), ("2", now.AddMinutes(-30)), ("3", now.AddMinutes(-20)), ("1", now.AddMinutes(-10)) })
        {
            await events.AppendAsync(new ModelEvent("fraud", version, at, "test", "shadow", ModelStage.Registered, ModelStage.Shadow, 0, 1, "because", new Dictionary<string, string>()));
        }

        var report = await Builder.BuildAsync("fraud", "2", LastHours(1));

        Assert.Equal([("2", now.AddMinutes(-30)), ("1", now.AddMinutes(-10))], report.Ladder.Select(e => (e.Version, e.At)));
        Assert.Equal(["1", "2"], report.Drift.Select(d => d.Version));
        Assert.Equal("2", Assert.Single(report.Challengers).Challenger.Version);
        Assert.True(report.Challengers[0].Windows.Count == 0 && report.Outcomes.Count == 0);
    }

    private const string ShadowArmName = "shadow";

    /// <summary>
    /// Counts <paramref name="count"/> scorings of <paramref name="version"/> in the current 5-minute window, as ShadowScore would
    /// (with the champion's score beside, for a challenger; with the demo's features, <c>amount</c> as given).
    /// </summary>
    private async Task ObserveAsync(string version, int count, Func<int, float> score, Func<int, float>? champion = null, double latencyMs = 2, Func<int, float>? amount = null)
    {
        var v = (await harness.Registry.ReadIfChangedAsync(null))!.Of("fraud").Single(x => x.Version == version);
        var edges = MonitoringEdges.From(DemoManifest());
        var observations = Enumerable.Range(0, count).Select(i =>
        {
            var features = new List<KeyValuePair<string, float>> { new("amount", amount?.Invoke(i) ?? 40 + (i % 60)), new("hour_of_day", i % 24) };
            var s = score(i);
            var c = champion?.Invoke(i);
            return new Observation(++sequence, ScoringOutcome.Scored, latencyMs, s, features, c, c is { } cs ? (s >= 0.5) == (cs >= 0.5) : null, (ulong)sequence);
        }).ToList();
        var now = harness.Time.GetUtcNow();
        var key = new AggregateKey("fraud", version, v.ChangedAt, new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.FromMinutes(5).Ticks), TimeSpan.Zero), "0");
        await aggregates.UpdateAsync(key, w =>
        {
            var window = w ?? new WindowAggregate(key, version == "1" ? PredictionService.ChampionArm : ShadowArmName, edges.Prediction);
            window.Apply("0", observations, edges.Feature);
            return window;
        });
    }

    private static ModelManifest DemoManifest() => ManifestReader.Parse(Encoding.UTF8.GetBytes(ServingHarness.DemoManifest().ToJsonString()));

    private static WindowAggregate Sum(IEnumerable<WindowAggregate> windows, DateTimeOffset from, DateTimeOffset to)
    {
        var list = windows.Where(w => w.Key.WindowStart >= from && w.Key.WindowStart < to).ToList();
        var sum = new WindowAggregate(list[0].Key, "", list[0].Prediction.Edges);
        foreach (var w in list)
        {
            sum.Merge(w);
        }

        return sum;
    }
}
