using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Predictions;

public sealed class PredictionServiceTests
{
    private static async Task<ServingHarness> ReadyAsync(ServingHarness? harness = null)
    {
        var h = harness ?? new ServingHarness();
        h.SeedEntities();
        await h.RegisterAsync("1", ModelStage.Champion);
        await h.Cache.RefreshAsync();
        return h;
    }

    private static Prediction Single(PredictOutcome outcome) =>
        Assert.Single(Assert.IsType<PredictOutcome.Scored>(outcome).Predictions);

    [Fact]
    public async Task Predict_StoredAndInlineFeatures_ScoresTheRowTheManifestDescribes()
    {
        var h = await ReadyAsync();

        var p = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request()));

        // The manifest's column order: amount, hour_of_day, consumer ×4, store ×2 (category 'gaming' is code 3).
        float[] row = [250, 3, 12, 80.5f, 30, 0, 0.02f, 3];
        var expected = new float[1];
        ServingHarness.DemoModel.Predict(row, expected);
        Assert.Equal(expected[0], p.Scores[0]);
        Assert.Equal("1", p.Version);
        Assert.Equal("champion", p.Arm);
        Assert.Equal(expected[0] >= 0.5 ? "review" : "approve", p.Decision);
        Assert.Empty(p.Degraded);
        Assert.Equal(3600, p.FeatureAgeSeconds["consumer"]);
        Assert.Equal(3600, p.FeatureAgeSeconds["store"]);
    }

    [Fact]
    public async Task Predict_FeatureStoreHangs_AnswersAtTheBudgetOnDefaultsAndNamesTheGroups()
    {
        var h = await ReadyAsync(new ServingHarness(f => new BrokenFeatureStore(f, hang: true)));

        var pending = h.Service.PredictAsync("fraud", ServingHarness.Request());
        Assert.False(pending.IsCompleted);
        h.Time.Advance(h.Options.FeatureBudget);
        var p = Single(await pending.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("consumer:timedOut", p.Degraded);
        Assert.Contains("store:timedOut", p.Degraded);
        Assert.Empty(p.FeatureAgeSeconds);
        float[] defaults = [250, 3, 0, float.NaN, float.NaN, 0, float.NaN, float.NaN];
        var expected = new float[1];
        ServingHarness.DemoModel.Predict(defaults, expected);
        Assert.Equal(expected[0], p.Scores[0]);
    }

    [Fact]
    public async Task Predict_FeatureStoreFails_ScoresOnDefaultsInsteadOfFailing()
    {
        var h = await ReadyAsync(new ServingHarness(f => new BrokenFeatureStore(f, hang: false)));

        var p = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request()));

        Assert.Equal(["consumer:failed", "store:failed"], p.Degraded);
    }

    [Fact]
    public async Task Predict_UnknownEntityAndMissingKey_DefaultsNamedInDegraded()
    {
        var h = await ReadyAsync();

        var p = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request(consumer: "nobody", store: null)));

        Assert.Equal(["consumer:notFound", "store:noKey"], p.Degraded);
    }

    [Fact]
    public async Task Predict_RequiredGroupUnknownOrMissing_IsInvalidWithTheField()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        var manifest = ServingHarness.DemoManifest();
        manifest["groups"]!["consumer"]!["required"] = true;
        await h.RegisterAsync("1", ModelStage.Champion, manifest: manifest);
        await h.Cache.RefreshAsync();

        var unknown = Assert.IsType<PredictOutcome.Invalid>(await h.Service.PredictAsync("fraud", ServingHarness.Request(consumer: "nobody")));
        var missing = Assert.IsType<PredictOutcome.Invalid>(await h.Service.PredictAsync("fraud", ServingHarness.Request(consumer: null)));

        Assert.Contains("entities.consumer", unknown.Errors.Keys);
        Assert.Contains("entities.consumer", missing.Errors.Keys);
    }

    [Fact]
    public async Task Predict_BadInlineValues_AreInvalidPerField()
    {
        var h = await ReadyAsync();
        var request = new PredictionRequest(
            new Dictionary<string, string> { ["consumer"] = "c1", ["store"] = "bad/key" },
            new Dictionary<string, object?> { ["amount"] = -5.0, ["hour_of_day"] = "three", ["nope"] = 1.0, ["store_category"] = "casino" },
            null);

        var invalid = Assert.IsType<PredictOutcome.Invalid>(await h.Service.PredictAsync("fraud", request));

        Assert.Equal(
            ["entities.store", "features.amount", "features.hour_of_day", "features.nope"],
            invalid.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(h.Mirror.Events);
    }

    [Fact]
    public async Task Predict_UnknownModel_IsUnknown()
    {
        var h = await ReadyAsync();

        Assert.IsType<PredictOutcome.UnknownModel>(await h.Service.PredictAsync("eta", ServingHarness.Request()));
    }

    [Fact]
    public async Task Predict_BeforeTheRegistryWasRead_IsUnavailableAfterTheWait()
    {
        var h = new ServingHarness(options: new ServingOptions { ModelLoadWaitSeconds = 2 });

        var pending = h.Service.PredictAsync("fraud", ServingHarness.Request());
        h.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.IsType<PredictOutcome.Unavailable>(await pending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Predict_StaleFeature_FallsBackToItsDefault()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        var manifest = ServingHarness.DemoManifest();
        manifest["features"]![2]!["maxAgeSeconds"] = 1800; // txn_count_7d, written an hour ago
        await h.RegisterAsync("1", ModelStage.Champion, manifest: manifest);
        await h.Cache.RefreshAsync();

        var p = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request()));

        Assert.Equal(["txn_count_7d:stale"], p.Degraded);
        Assert.Equal(0f, h.Mirror.Events.Single().Features.Single(f => f.Key == "txn_count_7d").Value);
    }

    [Fact]
    public async Task Predict_Experiment_ArmFollowsTheEntityAndTheShare()
    {
        var h = await ReadyAsync();
        await h.RegisterAsync("2", ModelStage.Experiment, share: 30);
        await h.Cache.RefreshAsync();

        var arms = new Dictionary<string, string>();
        for (var i = 0; i < 2000; i++)
        {
            arms[$"c{i}"] = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request(consumer: $"c{i}"))).Arm;
        }

        var again = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request(consumer: "c7"))).Arm;
        var share = arms.Values.Count(a => a == "experiment") / 2000.0;
        Assert.InRange(share, 0.27, 0.33); // 30 % ± 3 binomial standard deviations
        Assert.Equal(arms["c7"], again);
        Assert.All(h.Mirror.Events.Where(e => e.Outputs[0].Arm == "experiment"), e =>
        {
            Assert.Equal(["2", "1"], e.Outputs.Select(o => o.Version)); // the champion is scored too, for paired analysis
            Assert.Equal([true, false], e.Outputs.Select(o => o.Served));
        });
    }

    [Fact]
    public async Task Predict_Scored_MirrorsAndLogsTheServedRow()
    {
        var h = await ReadyAsync();

        var p = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request(requestId: "r-1")));

        var e = Assert.Single(h.Mirror.Events);
        Assert.Equal(p.PredictionId, e.PredictionId);
        Assert.Equal("r-1", e.RequestId);
        Assert.Equal("c1", e.PartitionKey);
        Assert.Equal(12.0, e.Groups["consumer"].Values!["txn_count_7d"]);
        Assert.Equal(3600, e.Groups["store"].AgeSeconds);
        Assert.Equal(250f, e.Features[0].Value);
        Assert.Equal(p.Scores, e.Outputs.Single().Scores);
        var log = Assert.Single(h.Log.Entries);
        Assert.Equal((p.PredictionId, "1", "champion", true), (log.PredictionId, log.Version, log.Arm, log.Served));
        Assert.Equal(e.Features, log.Features);
    }

    [Fact]
    public async Task Predict_MirrorBufferFull_StillAnswers()
    {
        var h = await ReadyAsync();
        h.Mirror.Accept = false;

        Single(await h.Service.PredictAsync("fraud", ServingHarness.Request()));
    }

    [Fact]
    public async Task Predict_Batch_ReadsEachDistinctEntityOnce()
    {
        CountingFeatureStore? counting = null;
        var h = await ReadyAsync(new ServingHarness(f => counting = new CountingFeatureStore(f)));
        PredictionRequest[] rows = [ServingHarness.Request(), ServingHarness.Request(amount: 10), ServingHarness.Request(consumer: "c2")];

        var scored = Assert.IsType<PredictOutcome.Scored>(await h.Service.PredictAsync("fraud", rows));

        Assert.Equal(3, scored.Predictions.Count);
        Assert.Equal(3, counting!.Reads); // consumer c1, consumer c2, store s9
        Assert.Equal(3, scored.Predictions.Select(p => p.PredictionId).Distinct().Count());
    }

    [Fact]
    public async Task Predict_CachedGroup_IsReadOnceWithinItsTtl()
    {
        CountingFeatureStore? counting = null;
        var h = await ReadyAsync(new ServingHarness(f => counting = new CountingFeatureStore(f)));

        await h.Service.PredictAsync("fraud", ServingHarness.Request());
        await h.Service.PredictAsync("fraud", ServingHarness.Request());
        h.Time.Advance(TimeSpan.FromSeconds(301)); // the demo manifest caches store rows for 300 s
        await h.Service.PredictAsync("fraud", ServingHarness.Request());

        Assert.Equal(3 + 2, counting!.Reads); // consumer every time; store on the first and after expiry
    }

    [Fact]
    public async Task FeatureCache_AtCapacity_EvictsAFewRows_NotAll()
    {
        var counting = new CountingFeatureStore(new InMemoryFeatureStore());
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(ServingHarness.Start);
        using var reader = new FeatureReader(counting, time, new ServingOptions { FeatureCacheEntries = 100 }, NullLogger<FeatureReader>.Instance);
        GroupWanted[] Rows(int from, int count) => [.. Enumerable.Range(from, count).Select(i => new GroupWanted("store", $"s{i}", TimeSpan.FromMinutes(5)))];

        await reader.ReadAsync(Rows(0, 100), CancellationToken.None); // full
        await reader.ReadAsync(Rows(100, 1), CancellationToken.None); // one more: over capacity
        for (var i = 0; i < 500 && reader.CachedRows > 95; i++)
        {
            await Task.Delay(10); // compaction runs in the background: wait for it, not for time
        }

        var before = counting.Reads;
        await reader.ReadAsync(Rows(0, 100), CancellationToken.None);

        Assert.InRange(counting.Reads - before, 1, 20); // a tenth or so went back to storage; a global clear would send all 100
        Assert.InRange(reader.CachedRows, 80, 100);
    }

    [Fact]
    public async Task PredictionIds_SortByTime()
    {
        var h = await ReadyAsync();

        var first = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request())).PredictionId;
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        var second = Single(await h.Service.PredictAsync("fraud", ServingHarness.Request())).PredictionId;

        Assert.True(string.CompareOrdinal(first, second) < 0);
        Assert.Equal(ServingHarness.Start, PredictionId.TimestampOf(first));
    }
}
