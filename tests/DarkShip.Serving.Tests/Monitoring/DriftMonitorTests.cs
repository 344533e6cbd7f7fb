using System.Text.Json.Nodes;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Monitoring;

/// <summary>
/// DriftMonitor on synthetic traffic for the demo model whose drift is known: feature values drawn
/// from the manifest's own training histograms (no drift), except where a test moves them.
/// </summary>
public sealed class DriftMonitorTests
{
    private readonly ServingHarness harness = new();
    private readonly InMemoryMonitoringStore aggregates = new();
    private readonly InMemoryDriftStore reports = new();
    private readonly DriftOptions options = new();
    private readonly DriftMonitor monitor;
    private readonly JsonObject baseline = (JsonObject)ServingHarness.DemoManifest()["baseline"]!;
    private readonly Random random = new(7);

    public DriftMonitorTests() =>
        monitor = new DriftMonitor(harness.Registry, harness.Cache, aggregates, reports, options, harness.Options, harness.Time, NullLogger<DriftMonitor>.Instance);

    [Fact]
    public async Task A_shifted_feature_and_a_missing_group_alert_while_undrifted_features_stay_ok()
    {
        var champion = await StartAsync();
        await TrafficAsync(champion, hoursAgo: 2, count: 3000);
        await TrafficAsync(champion, hoursAgo: 1, count: 3000, amountTimes: 8, consumerMissing: 0.4);

        var report = Assert.Single(await monitor.RunAsync());

        Assert.Equal(DriftStatus.Alert, report.Status);
        Assert.Equal(3000, report.Samples);
        Assert.Equal(3000, report.PreviousSamples);
        Assert.Equal(DriftStatus.Alert, Finding(report, "amount", "baseline").Status);
        Assert.Equal(DriftStatus.Alert, Finding(report, "amount", "previous").Status);
        Assert.Contains("PSI", Finding(report, "amount", "baseline").Reason); // 3000 values: effect sizes decide
        foreach (var calm in new[] { "hour_of_day", "store_chargeback_rate_90d", "prediction" })
        {
            Assert.Equal(DriftStatus.Ok, Finding(report, calm, "baseline").Status);
        }

        var missing = report.Findings.Single(f => f.Subject == "txn_count_7d" && f.Measure == "missingRate");
        Assert.Equal(DriftStatus.Alert, missing.Status);
        Assert.InRange(missing.Value, 0.35, 0.45);
        Assert.Equal(0, missing.ReferenceValue);
        Assert.Equal(DriftStatus.Ok, report.Findings.Single(f => f.Subject == "store_category" && f.Measure == "missingRate").Status);
        Assert.Same(report, Assert.Single(await reports.LatestAsync("fraud")));
    }

    [Fact]
    public async Task Few_values_are_judged_by_a_test_and_too_few_get_no_verdict()
    {
        var champion = await StartAsync();
        await TrafficAsync(champion, hoursAgo: 2, count: 300);
        await TrafficAsync(champion, hoursAgo: 1, count: 300, amountTimes: 3);

        var report = Assert.Single(await monitor.RunAsync());

        Assert.StartsWith("KS p = ", Finding(report, "amount", "baseline").Reason);
        Assert.Equal(DriftStatus.Alert, Finding(report, "amount", "baseline").Status);
        Assert.StartsWith("chi-square p = ", Finding(report, "store_category", "previous").Reason);

        options.MinSamples = 500;
        var insufficient = Assert.Single(await monitor.RunAsync());
        Assert.Equal(DriftStatus.Insufficient, Finding(insufficient, "amount", "baseline").Status);
    }

    [Fact]
    public async Task The_guardrail_signal_fires_on_prediction_drift_but_not_on_input_drift_alone()
    {
        var champion = await StartAsync();
        await TrafficAsync(champion, hoursAgo: 1, count: 2000, amountTimes: 8);
        await monitor.RunAsync();
        Assert.Null(await monitor.DriftAlertAsync(champion)); // inputs moved for every version alike

        await TrafficAsync(champion, hoursAgo: 1, count: 2000, prediction: 0.9);
        await monitor.RunAsync();
        Assert.Contains("prediction drift against the baseline", await monitor.DriftAlertAsync(champion));

        harness.Time.Advance(TimeSpan.FromMinutes(options.AlertValidMinutes + 1));
        Assert.Null(await monitor.DriftAlertAsync(champion)); // a stale report holds no alert
    }

    private async Task<ModelVersion> StartAsync()
    {
        harness.SeedEntities();
        var champion = await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.Cache.RefreshAsync();
        return champion;
    }

    /// <summary>Scorings over the hour ending <paramref name="hoursAgo"/> − 1 hours ago, counted as ShadowScore counts them.</summary>
    private async Task TrafficAsync(ModelVersion version, int hoursAgo, int count, double amountTimes = 1, double consumerMissing = 0, double? prediction = null)
    {
        var loaded = harness.Cache.Find("fraud")!.Champion!;
        var hourStart = harness.Time.GetUtcNow().AddHours(-hoursAgo).AddMinutes(1);
        var features = loaded.Manifest.Features.Select(f => f.Name).ToList();
        for (var window = 0; window < 12; window++)
        {
            var start = hourStart.AddMinutes(5 * window);
            var key = new AggregateKey(version.Name, version.Version, version.ChangedAt, new DateTimeOffset(start.UtcTicks - (start.UtcTicks % TimeSpan.FromMinutes(5).Ticks), TimeSpan.Zero));
            var observations = new List<Observation>();
            for (var i = 0; i < count / 12; i++)
            {
                var missing = random.NextDouble() < consumerMissing;
                var values = features.Select(name => KeyValuePair.Create(name, (float)(name == "amount" ? Sample(name) * amountTimes : Sample(name)))).ToList();
                observations.Add(new Observation(random.NextInt64(), ScoringOutcome.Scored, 1, (float)(prediction ?? Sample("prediction")), values,
                    Degraded: missing ? ["consumer:notFound"] : []));
            }

            await aggregates.UpdateAsync(key, stored =>
            {
                var w = stored ?? new WindowAggregate(key, "champion", loaded.Edges.Prediction);
                w.Apply(Guid.NewGuid().ToString(), observations.OrderBy(o => o.Sequence), loaded.Edges.Feature);
                return w;
            });
        }
    }

    /// <summary>A value drawn from the training histogram: a bin by its count, then uniform within it; categories by code.</summary>
    private double Sample(string name)
    {
        if (name is "is_verified")
        {
            return random.Next(2);
        }

        if (name is "store_category")
        {
            return random.Next(4);
        }

        var h = name == "prediction" ? baseline["prediction"]! : baseline["features"]![name]!;
        var edges = h["edges"]!.AsArray().Select(e => (double)e!).ToArray();
        var counts = h["counts"]!.AsArray().Select(c => (double)c!).ToArray();
        var pick = random.NextDouble() * counts.Sum();
        var bin = 0;
        for (; bin < counts.Length - 1 && pick > counts[bin]; bin++)
        {
            pick -= counts[bin];
        }

        return edges[bin] + random.NextDouble() * (edges[bin + 1] - edges[bin]);
    }

    private static DriftFinding Finding(DriftReport report, string subject, string reference) =>
        report.Findings.Single(f => f.Subject == subject && f.Measure == "distribution" && f.Reference == reference);
}
