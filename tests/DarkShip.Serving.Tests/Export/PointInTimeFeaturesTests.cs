using System.Text;
using DarkShip.Serving.Export;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;

namespace DarkShip.Serving.Tests.Export;

public sealed class PointInTimeFeaturesTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>What version 1 served: amount inline, risk and segment from group dev (segment's labels in the order b, a).</summary>
    private static readonly ModelManifest Served = Manifest("""
        { "name": "m", "output": "probability", "groups": { "dev": {} }, "features": [
          { "name": "amount", "type": "number" },
          { "name": "risk", "group": "dev", "property": "risk", "type": "number", "default": -1 },
          { "name": "segment", "group": "dev", "property": "seg", "type": "category", "categories": ["b", "a"] } ] }
        """);

    /// <summary>The candidate: the same amount and risk, segment with its labels reordered, and a fresh risk feature with a max age.</summary>
    private static readonly ModelManifest Candidate = Manifest("""
        { "name": "m", "output": "probability", "groups": { "dev": {} }, "features": [
          { "name": "amount", "type": "number" },
          { "name": "risk", "group": "dev", "property": "risk", "type": "number", "default": -1 },
          { "name": "segment", "group": "dev", "property": "seg", "type": "category", "categories": ["a", "b"] },
          { "name": "fresh_risk", "group": "dev", "property": "risk", "type": "number", "default": -2, "maxAgeSeconds": 3600 } ] }
        """);

    [Fact]
    public async Task Features_served_alike_come_from_the_log_and_the_others_are_read_as_of_the_prediction()
    {
        var store = new InMemoryFeatureStore();
        store.Put("dev", "k1", At.AddMinutes(-30), new Dictionary<string, object> { ["risk"] = 0.3, ["seg"] = "a" });
        store.Put("dev", "k1", At.AddMinutes(1), new Dictionary<string, object> { ["risk"] = 0.9, ["seg"] = "b" }); // written after the prediction
        var features = new PointInTimeFeatures(store, new Manifests1(Served), new FeaturePlan(Candidate));

        var row = (await features.FillAsync([Logged("k1", At, amount: 12.5f, risk: 0.25f, segment: 1)])).Single();

        // amount and risk as served (risk even though the store now says otherwise); segment re-read, its code in the candidate's order; fresh_risk as of the prediction.
        Assert.Equal([12.5f, 0.25f, 0f, 0.3f], row.Input);
        Assert.Equal([true, true, false, false], row.FromLog);
        Assert.Empty(row.Degraded);
        Assert.Equal(["amount", "risk"], features.FeaturesFromLog);
        Assert.Equal(["segment", "fresh_risk"], features.FeaturesAsOf);
    }

    [Fact]
    public async Task Staleness_is_judged_at_the_prediction_and_what_is_missing_falls_back_to_the_default()
    {
        var store = new InMemoryFeatureStore();
        store.Put("dev", "old", At.AddHours(-2), new Dictionary<string, object> { ["risk"] = 0.3, ["seg"] = "b" });
        store.Put("dev", "old", At.AddHours(5), new Dictionary<string, object> { ["risk"] = 0.4, ["seg"] = "b" }); // fresh now, but not then
        var features = new PointInTimeFeatures(store, new Manifests1(Served), new FeaturePlan(Candidate));

        var rows = await features.FillAsync([Logged("old", At, 1, 0.1f, 0, degraded: ["risk:missing"]), Logged("unknown", At, 1, -1, float.NaN)]);

        Assert.Equal([1f, 0.1f, 1f, -2f], rows[0].Input);
        Assert.Equal(["risk:missing", "fresh_risk:stale"], rows[0].Degraded); // the logged token of a feature taken from the log, and the candidate's own
        Assert.Equal(-2f, rows[1].Input[3]);
        Assert.True(float.IsNaN(rows[1].Input[2]));
        Assert.Equal(["segment:missing", "fresh_risk:missing"], rows[1].Degraded);
    }

    [Fact]
    public async Task A_version_the_registry_forgot_is_matched_by_name_and_an_entitys_history_is_read_once_for_the_block()
    {
        var store = new CountingStore();
        store.Inner.Put("dev", "k1", At.AddMinutes(-10), new Dictionary<string, object> { ["risk"] = 0.5, ["seg"] = "b" });
        var features = new PointInTimeFeatures(store, new Manifests1(null), new FeaturePlan(Candidate));
        var block = Enumerable.Range(0, 10).Select(i => Logged("k1", i < 6 ? At : At.AddSeconds(i), 2, 0.7f, 0)).ToList();

        var rows = await features.FillAsync(block);

        Assert.All(rows, r => Assert.Equal([true, true, true, false], r.FromLog)); // by name: segment is taken as logged
        Assert.All(rows, r => Assert.Equal(0.5f, r.Input[3]));
        Assert.Equal((1, 0), (store.HistoryReads, store.AsOfReads)); // one history read answers the ten rows' as-of lookups
    }

    [Fact]
    public async Task An_entity_read_ahead_to_the_exports_end_costs_no_read_in_later_blocks_and_a_row_past_it_is_read_again()
    {
        var store = new CountingStore();
        store.Inner.Put("dev", "k1", At.AddHours(-1), new Dictionary<string, object> { ["risk"] = 0.1, ["seg"] = "a" });
        store.Inner.Put("dev", "k1", At.AddMinutes(30), new Dictionary<string, object> { ["risk"] = 0.2, ["seg"] = "a" });
        store.Inner.Put("dev", "k1", At.AddHours(3), new Dictionary<string, object> { ["risk"] = 0.3, ["seg"] = "a" });
        var features = new PointInTimeFeatures(store, new Manifests1(Served), new FeaturePlan(Candidate), readAheadTo: At.AddHours(2));
        var logged = Enumerable.Range(0, PointInTimeFeatures.BlockSize * 3).Select(i => new TrainingRow(Logged("k1", At.AddSeconds(i * 9), i, 0, 0).Row, null, null)).ToList();

        var rows = await features.ReadAsync(logged.ToAsyncEnumerable()).ToListAsync();

        Assert.Equal(1, store.HistoryReads);
        Assert.Equal(await Task.WhenAll(logged.Select(l => ExpectedFreshRiskAsync(store.Inner, l.Row.Entry))), rows.Select(r => r.Input[3]));
        Assert.Contains(0.1f, rows.Select(r => r.Input[3]));
        Assert.Contains(0.2f, rows.Select(r => r.Input[3]));
        var late = await features.FillAsync([Logged("k1", At.AddHours(4), 1, 0, 0)]);
        Assert.Equal((2, 0.3f), (store.HistoryReads, late[0].Input[3])); // past the range read ahead: read again, and the later snapshot is found
    }

    [Fact]
    public async Task Histories_held_answer_exactly_as_the_stores_as_of_read_within_a_budget_smaller_than_the_data()
    {
        var random = new Random(11);
        var store = new CountingStore();
        for (var k = 0; k < 40; k++)
        {
            for (var n = random.Next(0, 6); n > 0; n--)
            {
                store.Inner.Put("dev", $"k{k}", At.AddMinutes(random.Next(-600, 600)), new Dictionary<string, object> { ["risk"] = random.NextDouble(), ["seg"] = "a" });
            }
        }

        var features = new PointInTimeFeatures(store, new Manifests1(Served), new FeaturePlan(Candidate), readAheadTo: At.AddHours(10), historyBudget: 20);
        // Runs of 25 rows per entity, all 40 entities twice over: a block needs a few of them, and by the second round the first are long dropped.
        var logged = Enumerable.Range(0, 2000).Select(i => new TrainingRow(Logged($"k{i / 25 % 40}", At.AddMinutes(-600 + (i * 0.6)), i, 0, 0).Row, null, null)).ToList();

        var rows = await features.ReadAsync(logged.ToAsyncEnumerable()).ToListAsync();

        Assert.Equal(await Task.WhenAll(logged.Select(l => ExpectedFreshRiskAsync(store.Inner, l.Row.Entry))), rows.Select(r => r.Input[3]));
        Assert.InRange(store.HistoryReads, 41, 200); // 20 snapshots hold fewer than the 40 entities' histories: some are read again, never one per row
    }

    [Fact]
    public async Task Rows_keep_their_order_across_blocks()
    {
        var store = new InMemoryFeatureStore();
        store.Put("dev", "k1", At.AddHours(-1), new Dictionary<string, object> { ["risk"] = 0.5, ["seg"] = "a" });
        var features = new PointInTimeFeatures(store, new Manifests1(Served), new FeaturePlan(Candidate));
        var logged = Enumerable.Range(0, PointInTimeFeatures.BlockSize * 2 + 7).Select(i => new TrainingRow(Logged("k1", At.AddSeconds(i), i, 0, 0).Row, null, null)).ToList();

        var rows = await features.ReadAsync(logged.ToAsyncEnumerable()).ToListAsync();

        Assert.Equal(Enumerable.Range(0, logged.Count).Select(i => (float)i), rows.Select(r => r.Input[0]));
    }

    /// <summary>The candidate's fresh_risk as the store's own as-of read gives it: the value when at most an hour old, else the default -2.</summary>
    private static async Task<float> ExpectedFreshRiskAsync(InMemoryFeatureStore store, PredictionLogEntry entry)
    {
        var row = await store.GetAsOfAsync("dev", entry.Entities["dev"], entry.Timestamp);
        return row is not null && entry.Timestamp - row.AsOf <= TimeSpan.FromHours(1) ? (float)(double)row.Values["risk"] : -2f;
    }

    private static TrainingRow Logged(string entity, DateTimeOffset at, float amount, float risk, float segment, string[]? degraded = null) =>
        new(new LoggedRow(at.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), new PredictionLogEntry(
            "p" + at.UtcTicks, "m", "1", "champion", true, at, null, new Dictionary<string, string> { ["dev"] = entity },
            [new("amount", amount), new("risk", risk), new("segment", segment)], [0.5f], null, degraded ?? [], 1)), null, null);

    private static ModelManifest Manifest(string json) => ManifestReader.Parse(Encoding.UTF8.GetBytes(json));

    private sealed class Manifests1(ModelManifest? manifest) : IServedManifests
    {
        public ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default) => ValueTask.FromResult(manifest);
    }

    private sealed class CountingStore : IFeatureStore
    {
        private int asOfReads;
        private int historyReads;

        public InMemoryFeatureStore Inner { get; } = new();

        public int AsOfReads => asOfReads;

        public int HistoryReads => historyReads;

        public ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default) => throw new InvalidOperationException("point-in-time reads only");

        public ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref asOfReads);
            return Inner.GetAsOfAsync(group, entityKey, asOf, cancellationToken);
        }

        public ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref historyReads);
            return Inner.GetHistoryAsync(group, entityKey, from, to, cancellationToken);
        }

        public ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default) => Inner.GetSchemaAsync(group, cancellationToken);
    }
}
