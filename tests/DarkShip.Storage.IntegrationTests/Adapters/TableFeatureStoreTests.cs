using DarkShip.Serving.Features;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.IntegrationTests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class TableFeatureStoreTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private async Task<(TableFeatureStore Store, string Group)> NewGroupAsync()
    {
        var group = "g" + Guid.NewGuid().ToString("N")[..12];
        var store = new TableFeatureStore(name => azurite.Table(name));
        await store.PrepareGroupAsync(new FeatureGroupSchema(group, new Dictionary<string, FeatureType> { ["n"] = FeatureType.Number, ["flag"] = FeatureType.Boolean, ["cat"] = FeatureType.Text }));
        return (store, group);
    }

    private static FeatureSnapshot Snapshot(string entity, DateTimeOffset at, double n, long line = 1) =>
        new(entity, at, new Dictionary<string, object> { ["n"] = n, ["flag"] = n > 1, ["cat"] = $"v{n}" }, line);

    [Fact]
    public async Task Write_ThenReadLatestAndAsOf_GivesTheSnapshotOfEachInstant()
    {
        var (store, group) = await NewGroupAsync();

        var result = await store.WriteEntityAsync(group, "c1", [Snapshot("c1", T0, 1), Snapshot("c1", T0.AddDays(7), 2), Snapshot("c1", T0.AddDays(14), 3)]);

        Assert.True(result.Succeeded);
        var latest = await store.GetLatestAsync(group, "c1");
        Assert.Equal((T0.AddDays(14), 3.0, true, "v3"), (latest!.AsOf, latest.Values["n"], latest.Values["flag"], latest.Values["cat"]));
        Assert.Null(await store.GetAsOfAsync(group, "c1", T0.AddTicks(-1)));
        Assert.Equal(1.0, (await store.GetAsOfAsync(group, "c1", T0))!.Values["n"]);
        Assert.Equal(1.0, (await store.GetAsOfAsync(group, "c1", T0.AddDays(7).AddTicks(-1)))!.Values["n"]);
        Assert.Equal(2.0, (await store.GetAsOfAsync(group, "c1", T0.AddDays(7)))!.Values["n"]);
        Assert.Equal(3.0, (await store.GetAsOfAsync(group, "c1", T0.AddYears(1)))!.Values["n"]);
    }

    [Fact]
    public async Task Write_OlderFileAfterNewer_KeepsTheNewerLatestButAddsHistory()
    {
        var (store, group) = await NewGroupAsync();
        await store.WriteEntityAsync(group, "c1", [Snapshot("c1", T0.AddDays(7), 2)]);

        await store.WriteEntityAsync(group, "c1", [Snapshot("c1", T0, 1)]);

        Assert.Equal(2.0, (await store.GetLatestAsync(group, "c1"))!.Values["n"]);
        Assert.Equal(1.0, (await store.GetAsOfAsync(group, "c1", T0.AddDays(1)))!.Values["n"]);
    }

    [Fact]
    public async Task Write_SameFileTwice_IsHarmless()
    {
        var (store, group) = await NewGroupAsync();
        FeatureSnapshot[] rows = [Snapshot("c1", T0, 1), Snapshot("c1", T0.AddDays(1), 2)];

        Assert.True((await store.WriteEntityAsync(group, "c1", rows)).Succeeded);
        Assert.True((await store.WriteEntityAsync(group, "c1", rows)).Succeeded);

        Assert.Equal(2.0, (await store.GetLatestAsync(group, "c1"))!.Values["n"]);
    }

    [Fact]
    public async Task Write_MoreThanOneTransactionOfHistory_WritesItAll()
    {
        var (store, group) = await NewGroupAsync();
        var rows = Enumerable.Range(0, 250).Select(i => Snapshot("c1", T0.AddHours(i), i)).ToList();

        Assert.Equal(250, (await store.WriteEntityAsync(group, "c1", rows)).Written);

        Assert.Equal(249.0, (await store.GetLatestAsync(group, "c1"))!.Values["n"]);
        Assert.Equal(120.0, (await store.GetAsOfAsync(group, "c1", T0.AddHours(120.5)))!.Values["n"]);
    }

    [Fact]
    public async Task History_OverARange_IsEverySnapshotInEffectThen_NewestFirst_AndAnswersEachAsOfReadAlike()
    {
        var (store, group) = await NewGroupAsync();
        var rows = Enumerable.Range(0, 250).Select(i => Snapshot("c1", T0.AddHours(i), i)).ToList(); // more than a page of history
        Assert.True((await store.WriteEntityAsync(group, "c1", rows)).Succeeded);

        var history = await store.GetHistoryAsync(group, "c1", T0.AddHours(10.5), T0.AddHours(130.5));

        Assert.Equal(Enumerable.Range(10, 121).Reverse().Select(i => (double)i), history.Select(h => (double)h.Values["n"])); // 130 … 11, then 10: in effect at the start
        foreach (var at in new[] { 10.5, 11, 11.25, 64, 129.9, 130.5 }.Select(h => T0.AddHours(h)))
        {
            Assert.Equal((await store.GetAsOfAsync(group, "c1", at))!.Values["n"], history.First(h => h.AsOf <= at).Values["n"]);
        }

        Assert.Equal([0.0], (await store.GetHistoryAsync(group, "c1", T0, T0)).Select(h => (double)h.Values["n"]));
        Assert.Empty(await store.GetHistoryAsync(group, "c1", T0.AddDays(-2), T0.AddTicks(-1)));
        Assert.Empty(await store.GetHistoryAsync(group, "nobody", T0, T0.AddYears(1)));
        Assert.Empty(await store.GetHistoryAsync("neverIngested", "c1", T0, T0.AddYears(1)));
    }

    [Fact]
    public async Task Reads_UnknownEntityOrGroup_AreNull()
    {
        var (store, group) = await NewGroupAsync();

        Assert.Null(await store.GetLatestAsync(group, "nobody"));
        Assert.Null(await store.GetLatestAsync("neverIngested", "c1"));
        Assert.Null(await store.GetAsOfAsync("neverIngested", "c1", T0));
        Assert.Null(await store.GetSchemaAsync("neverIngested"));
        Assert.Equal(FeatureType.Boolean, (await store.GetSchemaAsync(group))!.Properties["flag"]);
    }
}
