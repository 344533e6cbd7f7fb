using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Features;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;

namespace DarkShip.Functions.IntegrationTests;

/// <summary><c>features ingest</c> on hostile files, against Azurite: refused cleanly, all or nothing per entity, nothing lost silently.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostileIngestTests(AzuriteFixture azurite)
{
    private StorageAccount Account() => DemoSystem.Account(azurite);

    private static (string Group, FileInfo File) Csv(string content)
    {
        var group = "g" + Guid.NewGuid().ToString("N")[..10];
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), group + ".csv"));
        File.WriteAllText(file.FullName, content);
        return (group, file);
    }

    [Fact]
    public async Task ValuesTheServiceWouldRefuse_AreBadRowsOfTheScan_SoNothingIsWritten()
    {
        var (group, file) = Csv($"id,ts,note\nu1,2026-11-01T00:00:00Z,fine\nu2,2026-11-01T00:00:00Z,{new string('x', 40_000)}\nu3,2026-11-01T00:00:00Z,also fine\n");
        var store = Account().FeatureStore();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await FeaturesCommand.IngestAsync(new IngestOptions(group, file, null, "ts", SkipBadRows: false), store, TimeProvider.System, output, error, CancellationToken.None);

        Assert.Equal(FeaturesCommand.BadInput, code);
        Assert.Contains("line 3: note: 40,000 characters; Table Storage holds at most 32,767", error.ToString(), StringComparison.Ordinal);
        Assert.Null(await store.GetLatestAsync(group, "u1")); // nothing was written, the schema neither
        Assert.Null(await store.GetSchemaAsync(group));
    }

    [Fact]
    public async Task AnEntityWhoseLaterTransactionFails_LeavesNoHistoryBehind()
    {
        // 250 snapshots: three transactions; the last one fails on a value the service refuses (a 40,000-character
        // string in a row the scan cannot see coming: the store is called directly, as a future caller might).
        var group = "g" + Guid.NewGuid().ToString("N")[..10];
        var store = Account().FeatureStore();
        await store.PrepareGroupAsync(new FeatureGroupSchema(group, new Dictionary<string, FeatureType> { ["v"] = FeatureType.Text }));
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        await store.WriteEntityAsync(group, "e1", [new FeatureSnapshot("e1", start.AddMinutes(3), new Dictionary<string, object> { ["v"] = "before" }, 1)]);
        var snapshots = Enumerable.Range(0, 250)
            .Select(i => new FeatureSnapshot("e1", start.AddMinutes(i), new Dictionary<string, object> { ["v"] = i == 249 ? new string('x', 40_000) : $"s{i}" }, i + 2))
            .ToList();

        var result = await store.WriteEntityAsync(group, "e1", snapshots);

        Assert.False(result.Succeeded);
        var table = azurite.Table(TableFeatureStore.TableName(group));
        var rows = await table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"e1"}")).ToListAsync();
        Assert.Equal(2, rows.Count); // the history row and the latest row from before, nothing else
        Assert.All(rows, r => Assert.Equal("before", r.Get<string>("v")));
    }

    [Fact]
    public async Task AStrayQuote_WithSkipBadRows_CostsItsOwnRow_NotTheRestOfTheFile()
    {
        var (group, file) = Csv("id,ts,tier\nu1,2026-11-01T00:00:00Z,gold\nu2,2026-11-01T00:00:00Z,\"silver\nu3,2026-11-01T00:00:00Z,bronze\nu4,2026-11-01T00:00:00Z,tin\nu5,2026-11-01T00:00:00Z,lead\n");
        var store = Account().FeatureStore();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await FeaturesCommand.IngestAsync(new IngestOptions(group, file, null, "ts", SkipBadRows: true), store, TimeProvider.System, output, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("line 3: a quoted field is never closed", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Ingested 4 snapshots of 4 entities", output.ToString(), StringComparison.Ordinal);
        foreach (var (entity, tier) in new[] { ("u1", "gold"), ("u3", "bronze"), ("u4", "tin"), ("u5", "lead") })
        {
            Assert.Equal(tier, (await store.GetLatestAsync(group, entity))!.Values["tier"]);
        }
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e400")]
    [InlineData("Infinity")]
    public async Task ANonFiniteCell_IsABadRow_AndTheColumnStaysNumeric(string cell)
    {
        var (group, file) = Csv($"id,ts,spend\nu1,2026-11-01T00:00:00Z,1.5\nu2,2026-11-01T00:00:00Z,{cell}\nu3,2026-11-01T00:00:00Z,3\n");
        var store = Account().FeatureStore();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await FeaturesCommand.IngestAsync(new IngestOptions(group, file, null, "ts", SkipBadRows: true), store, TimeProvider.System, output, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains($"line 3: spend: '{cell}' is not a finite number", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(FeatureType.Number, (await store.GetSchemaAsync(group))!.Properties["spend"]);
        Assert.Equal(3.0, (await store.GetLatestAsync(group, "u3"))!.Values["spend"]);
    }
}
