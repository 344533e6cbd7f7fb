using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.IntegrationTests.Adapters;

/// <summary>The registry's transactions and rules, the audit, the aggregates and the dead letters, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LadderStoresTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 9, 30, 0, TimeSpan.Zero);

    private Azure.Data.Tables.TableClient NewTable() => azurite.Table("t" + Guid.NewGuid().ToString("N")[..20]);

    private static ModelVersion Version(string version, ModelStage stage) =>
        new("fraud", version, stage, 0, $"fraud/{version}/model.json", "aa", $"fraud/{version}/manifest.json", "bb", At);

    [Fact]
    public async Task Registry_AMoveOfTwoVersions_IsAllOrNothing_AndKeepsChangedAtAndPreviousStage()
    {
        var registry = new TableModelRegistry(NewTable());
        await registry.EnsureCreatedAsync();
        await registry.TryAddAsync(Version("1", ModelStage.Champion));
        await registry.TryAddAsync(Version("2", ModelStage.Experiment));
        var read = (await registry.ReadIfChangedAsync(null))!.Versions;
        var v1 = read.Single(v => v.Version == "1");
        var v2 = read.Single(v => v.Version == "2");
        Assert.True(await registry.TryUpdateAsync([v1 with { SharePercent = 100 }])); // v1's ETag moves on

        var stale = await registry.TryUpdateAsync([v2 with { Stage = ModelStage.Champion }, v1 with { Stage = ModelStage.Retired }]);
        var fresh = (await registry.ReadIfChangedAsync(null))!.Versions;
        var promoted = await registry.TryUpdateAsync([
            fresh.Single(v => v.Version == "2") with { Stage = ModelStage.Champion, ChangedAt = At.AddHours(1), PreviousStage = ModelStage.Experiment },
            fresh.Single(v => v.Version == "1") with { Stage = ModelStage.Retired, ChangedAt = At.AddHours(1), PreviousStage = ModelStage.Champion }]);

        Assert.False(stale);
        Assert.True(promoted);
        var after = (await registry.ReadIfChangedAsync(null))!.Versions;
        Assert.Equal((ModelStage.Champion, At.AddHours(1), (ModelStage?)ModelStage.Experiment), (after.Single(v => v.Version == "2").Stage, after.Single(v => v.Version == "2").ChangedAt, after.Single(v => v.Version == "2").PreviousStage));
        Assert.Equal((ModelStage.Retired, (ModelStage?)ModelStage.Champion), (after.Single(v => v.Version == "1").Stage, after.Single(v => v.Version == "1").PreviousStage));
    }

    [Fact]
    public async Task Registry_Rules_AreStoredAsValues_ChangedWithIfMatch_AndMoveTheRevision()
    {
        var registry = new TableModelRegistry(NewTable());
        await registry.EnsureCreatedAsync();
        await registry.TryAddAsync(Version("1", ModelStage.Champion));
        var before = (await registry.ReadIfChangedAsync(null))!;
        Assert.Equal(PromotionRules.Default.ToValues(), before.RulesFor("fraud").ToValues());

        Assert.True(await registry.TrySetRulesAsync("fraud", before.RulesFor("fraud").With("minSamples", "50")));
        var after = (await registry.ReadIfChangedAsync(before.Revision))!;
        var raced = await registry.TrySetRulesAsync("fraud", before.RulesFor("fraud").With("minSamples", "60")); // still "none stored"
        var changed = await registry.TrySetRulesAsync("fraud", after.RulesFor("fraud").With("shadowRamp", "5,100"));

        Assert.Equal(50, after.RulesFor("fraud").MinSamples);
        Assert.Single(after.Versions); // the rules row is not a version
        Assert.False(raced);
        Assert.True(changed);
        var final = (await registry.ReadIfChangedAsync(null))!.RulesFor("fraud");
        Assert.Equal((50L, "5,100"), (final.MinSamples, final.ToValues()["shadowRamp"]));
    }

    [Fact]
    public async Task EventLog_AppendsAndReadsAModelsHistoryInTimeOrder_WithEvidence_CreatingItsTableOnDemand()
    {
        var log = new TableModelEventLog(NewTable());
        await log.AppendAsync(new ModelEvent("fraud", "2", At.AddMinutes(5), "PromoteModels", "shadow", ModelStage.Shadow, ModelStage.Shadow, 1, 10, "ramp", new Dictionary<string, string> { ["samples"] = "1000", ["psi"] = "0.03" }));
        await log.AppendAsync(new ModelEvent("fraud", "2", At, "ana@laptop", "register", null, ModelStage.Registered, 0, 0, "new model", new Dictionary<string, string>()));
        await log.AppendAsync(new ModelEvent("eta", "1", At, "bo", "register", null, ModelStage.Registered, 0, 0, "other model", new Dictionary<string, string>()));

        var history = await log.ReadAsync("fraud");

        Assert.Equal(["register", "shadow"], history.Select(e => e.Action));
        var ramp = history[1];
        Assert.Equal(("PromoteModels", (ModelStage?)ModelStage.Shadow, 1.0, 10.0, At.AddMinutes(5)), (ramp.Actor, ramp.From, ramp.FromShare, ramp.ToShare, ramp.At));
        Assert.Equal("0.03", ramp.Evidence["psi"]);
        Assert.Null(history[0].From);
    }

    [Fact]
    public async Task Aggregates_RoundTripEveryFigure_AndConcurrentWritersLoseNoCounts()
    {
        var store = new TableAggregateStore(NewTable());
        var key = new AggregateKey("fraud", "2", At, At.AddMinutes(5));

        async Task WriteAsync(string partition, int first, int count) =>
            await store.UpdateAsync(key, stored =>
            {
                var w = stored ?? new WindowAggregate(key, "shadow", Histogram.ProbabilityEdges);
                w.Apply(partition, Enumerable.Range(first, count).Select(i => new Observation(i, i % 10 == 0 ? ScoringOutcome.Error : ScoringOutcome.Scored, 3, 0.3f,
                    [KeyValuePair.Create("amount", (float)i)], 0.2f, true, (ulong)(i * 31) + ulong.Parse(partition, System.Globalization.CultureInfo.InvariantCulture) * 100_000)), _ => Histogram.DecadeEdges);
                return w;
            });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(p => WriteAsync(p.ToString(System.Globalization.CultureInfo.InvariantCulture), 0, 50)));
        await WriteAsync("3", 0, 60); // 0..49 again (a re-delivery), then 50..59 new

        var window = Assert.Single(await store.ReadAsync("fraud", "2", At, DateTimeOffset.MinValue));
        Assert.Equal(key, window.Key);
        Assert.Equal((410L, 41L, 369L, 369L, 369L), (window.Count, window.Errors, window.Scored, window.Pairs, window.Agreements));
        Assert.Equal(369, window.Features["amount"].Total);
        Assert.Equal(369, window.Prediction.Total);
        Assert.Equal(59L, window.Watermarks["3"]);
        Assert.Equal(WindowAggregate.RankSampleSize, window.RankSample.Count);
        Assert.Empty(await store.ReadAsync("fraud", "2", At.AddTicks(1), DateTimeOffset.MinValue)); // another epoch
        Assert.Empty(await store.ReadAsync("fraud", "2", null, At.AddMinutes(6))); // windows before 'since' are left out
    }

    [Fact]
    public async Task Aggregates_EachPartitionWritesItsOwnRow_AndAReadSumsAWindowsRowsIntoOne()
    {
        var table = NewTable();
        var store = new TableAggregateStore(table);
        await store.EnsureCreatedAsync();
        var whole = new AggregateKey("fraud", "2", At, At.AddMinutes(5));
        var attempts = 0;

        async Task WriteAsync(AggregateKey key, string partition, int count) =>
            await store.UpdateAsync(key, stored =>
            {
                Interlocked.Increment(ref attempts);
                var w = stored ?? new WindowAggregate(key, "shadow", Histogram.ProbabilityEdges);
                w.Apply(partition, Enumerable.Range(0, count).Select(i => new Observation(i, ScoringOutcome.Scored, 3, 0.3f, [KeyValuePair.Create("amount", (float)i)], 0.2f, true, (ulong)i)), _ => Histogram.DecadeEdges);
                return w;
            });

        // Eight partitions at once, each on its own row: nobody's write is refused, so every update runs once.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(p => WriteAsync(whole with { Partition = $"{p}" }, $"{p}", 10 + p)));
        Assert.Equal(8, attempts);
        await WriteAsync(whole, "legacy", 5); // a row written before partitions had their own

        var rows = await table.QueryAsync<Azure.Data.Tables.TableEntity>().ToListAsync();
        Assert.Equal(9, rows.Count);
        Assert.Contains(rows, r => r.RowKey == TableAggregateStore.RowKey(At, At.AddMinutes(5), "7"));
        var window = Assert.Single(await store.ReadAsync("fraud", "2", At, DateTimeOffset.MinValue));
        Assert.Equal(whole, window.Key);
        Assert.Equal(Enumerable.Range(10, 8).Sum() + 5, window.Count);
        Assert.Equal(window.Count, window.Features["amount"].Total);
        Assert.Equal(Enumerable.Range(0, 8).Select(p => ($"{p}", 9L + p)).Append(("legacy", 4L)).Order(), window.Watermarks.Select(w => (w.Key, w.Value)).Order());
        Assert.Throws<ArgumentException>(() => TableAggregateStore.RowKey(At, At, "a/b")); // the host's partition id is checked, not trusted
        Assert.Contains("Partition = 7", (whole with { Partition = "7" }).ToString(), StringComparison.Ordinal); // a key prints (in logs and errors) without printing itself again
    }

    [Fact]
    public async Task DeadLetters_KeepTheBodyAndReason_AndARedeliveryOverwritesItsOwnRow()
    {
        var table = NewTable();
        var letters = new TableDeadLetters(table);
        var body = new string('x', 70_000);

        await letters.AddAsync(new DeadLetter("mirror/shadow", "3", 42, At, "not a mirror event", body));
        await letters.AddAsync(new DeadLetter("mirror/shadow", "3", 42, At, "not a mirror event", body));

        var rows = await table.QueryAsync<Azure.Data.Tables.TableEntity>().ToListAsync();
        var row = Assert.Single(rows);
        Assert.Equal(("mirror-shadow~3", "0000000000000000042", "not a mirror event", 70_000), (row.PartitionKey, row.RowKey, row.Get<string>("Reason"), row.Get<int>("BodyLength")));
        Assert.Equal(body, row.Get<string>("Body") + row.Get<string>("Body1") + row.Get<string>("Body2"));
    }
}
