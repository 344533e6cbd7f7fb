using System.Text;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.IntegrationTests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class RegistryAndArtifactsTests(AzuriteFixture azurite)
{
    private async Task<TableModelRegistry> NewRegistryAsync()
    {
        var registry = new TableModelRegistry(azurite.Table("m" + Guid.NewGuid().ToString("N")[..20]));
        await registry.EnsureCreatedAsync();
        return registry;
    }

    private static ModelVersion Version(string version, ModelStage stage) =>
        new("fraud", version, stage, 5, $"fraud/{version}/model.json", "aa", $"fraud/{version}/manifest.json", "bb", new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ReadIfChanged_MovesOnlyWhenTheRegistryChanges()
    {
        var registry = await NewRegistryAsync();
        var empty = await registry.ReadIfChangedAsync(null);
        Assert.Empty(empty!.Versions);

        Assert.True(await registry.TryAddAsync(Version("1", ModelStage.Champion)));
        var first = await registry.ReadIfChangedAsync(empty.Revision);

        Assert.Equal(Version("1", ModelStage.Champion) with { ETag = first!.Versions[0].ETag }, Assert.Single(first.Versions));
        Assert.Null(await registry.ReadIfChangedAsync(first.Revision));
    }

    [Fact]
    public async Task ReadIfChanged_NoTableYet_AnEmptyRegistryInOneRequest_ThenTheFirstModelMovesTheRevision()
    {
        var name = "m" + Guid.NewGuid().ToString("N")[..20];
        var requests = new RequestCounter();
        var registry = new TableModelRegistry(azurite.Table(name, options => options.AddPolicy(requests, Azure.Core.HttpPipelinePosition.PerRetry)));

        var empty = await registry.ReadIfChangedAsync(null);
        Assert.Empty(empty!.Versions);
        Assert.Equal(1, requests.Count); // the revision query's 404 says it all: no second query
        Assert.Null(await registry.ReadIfChangedAsync(empty.Revision));

        await registry.EnsureCreatedAsync();
        Assert.True(await registry.TryAddAsync(Version("1", ModelStage.Champion)));
        Assert.Equal("1", Assert.Single((await registry.ReadIfChangedAsync(empty.Revision))!.Versions).Version);
    }

    private sealed class RequestCounter : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public override void OnSendingRequest(Azure.Core.HttpMessage message) => Interlocked.Increment(ref count);
    }

    [Fact]
    public async Task TryUpdate_ConnectionLostRightAfterTheTransaction_TheChangeAndItsRevisionAreCommittedTogether()
    {
        var name = "m" + Guid.NewGuid().ToString("N")[..20];
        var cut = new CutAfterFirstBatch();
        var registry = new TableModelRegistry(azurite.Table(name, options =>
        {
            options.Retry.MaxRetries = 0;
            options.AddPolicy(cut, Azure.Core.HttpPipelinePosition.PerRetry);
        }));
        await registry.EnsureCreatedAsync();
        await registry.TryAddAsync(Version("1", ModelStage.Champion));
        var before = (await registry.ReadIfChangedAsync(null))!;
        cut.Arm();

        var rolledBack = await registry.TryUpdateAsync([before.Versions[0] with { Stage = ModelStage.RolledBack }]); // nothing may follow the transaction

        cut.Disarm();
        Assert.True(rolledBack);
        var after = await new TableModelRegistry(azurite.Table(name)).ReadIfChangedAsync(before.Revision);
        Assert.NotNull(after); // the poll sees the move
        Assert.Equal(ModelStage.RolledBack, Assert.Single(after.Versions).Stage);
    }

    [Fact]
    public async Task ReadIfChanged_EachModelsChangesMoveTheRevision_RulesToo()
    {
        var registry = await NewRegistryAsync();
        await registry.TryAddAsync(Version("1", ModelStage.Champion));
        await registry.TryAddAsync(Version("1", ModelStage.Champion) with { Name = "eta" });
        var first = (await registry.ReadIfChangedAsync(null))!;

        Assert.True(await registry.TrySetRulesAsync("eta", PromotionRules.Default));
        var second = await registry.ReadIfChangedAsync(first.Revision);

        Assert.NotNull(second);
        Assert.Equal(2, second.Versions.Count);
        Assert.Null(await registry.ReadIfChangedAsync(second.Revision));
    }

    [Fact]
    public async Task TryUpdate_TwoChangesFromTheSameRead_ExactlyOneWins()
    {
        var registry = await NewRegistryAsync();
        await registry.TryAddAsync(Version("7", ModelStage.Shadow));
        var read = (await registry.ReadIfChangedAsync(null))!.Versions.Single();

        var results = await Task.WhenAll(
            registry.TryUpdateAsync([read with { SharePercent = 10 }]),
            registry.TryUpdateAsync([read with { Stage = ModelStage.RolledBack }]));

        Assert.Single(results, r => r);
        Assert.False(await registry.TryAddAsync(Version("7", ModelStage.Registered)));
    }

    [Fact]
    public async Task Artifacts_UploadThenDownload_VerifiesTheSha256()
    {
        var container = azurite.Container("c" + Guid.NewGuid().ToString("N")[..20]);
        var artifacts = new BlobModelArtifactStore(container);
        await artifacts.EnsureCreatedAsync();
        var content = Encoding.UTF8.GetBytes("{\"learner\":{}}");

        var sha = await artifacts.UploadAsync("fraud/1/model.json", content);

        Assert.Equal(content, await artifacts.DownloadAsync("fraud/1/model.json", sha));
        await Assert.ThrowsAsync<ModelArtifactException>(() => artifacts.DownloadAsync("fraud/1/model.json", new string('0', 64)));
        await Assert.ThrowsAsync<ModelArtifactException>(() => artifacts.DownloadAsync("fraud/2/model.json", sha));
    }

    [Fact]
    public async Task PredictionLog_Batch_WritesOneRowPerPredictionAndVersion_AndRetriesAreHarmless()
    {
        var table = azurite.Table("p" + Guid.NewGuid().ToString("N")[..20]);
        var log = new TablePredictionLog(table);
        await log.EnsureCreatedAsync();
        var at = new DateTimeOffset(2026, 11, 22, 9, 15, 0, TimeSpan.Zero);
        var time = new FixedTime(at);
        var entries = Enumerable.Range(0, 150).SelectMany(i =>
        {
            var id = Serving.Predictions.PredictionId.New(time);
            return new[] { Entry(id, "1", "champion", true, at), Entry(id, "2", "experiment", false, at) };
        }).ToList();

        IBatchSink<PredictionLogEntry> sink = log;
        await sink.WriteAsync(entries, CancellationToken.None);
        await sink.WriteAsync(entries, CancellationToken.None);

        var rows = await table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {TablePredictionLog.PartitionKey("fraud", at)}")).ToListAsync();
        Assert.Equal(300, rows.Count);
        var row = rows.First(r => r.RowKey == TablePredictionLog.RowKey(entries[0].PredictionId, "1"));
        Assert.Equal("{\"amount\":250,\"tiny\":1E-05,\"gone\":null}", row.Get<string>("Features"));
        Assert.Equal(0.25, row.Get<double>("Score"));
        Assert.Equal("review", row.Get<string>("Decision"));
    }

    [Fact]
    public async Task PredictionLog_ARowTheServiceRefuses_IsLeftOut_AndTheRestOfItsTransactionIsWritten()
    {
        var table = azurite.Table("p" + Guid.NewGuid().ToString("N")[..20]);
        var log = new TablePredictionLog(table);
        await log.EnsureCreatedAsync();
        var at = new DateTimeOffset(2026, 11, 22, 9, 15, 0, TimeSpan.Zero);
        var time = new FixedTime(at);
        var entries = Enumerable.Range(0, 7).Select(_ => Entry(Serving.Predictions.PredictionId.New(time), "1", "champion", true, at)).ToList();
        entries[3] = entries[3] with { RequestId = new string('r', 40_000) }; // over the 64 KiB a string property may hold

        var delivery = await ((IBatchSink<PredictionLogEntry>)log).WriteAsync(entries, CancellationToken.None);

        Assert.Equal((6, 1, 0), (delivery.Delivered, delivery.Rejected, delivery.Failed));
        var rows = await table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {TablePredictionLog.PartitionKey("fraud", at)}")).ToListAsync();
        Assert.Equal(entries.Where((_, i) => i != 3).Select(e => TablePredictionLog.RowKey(e.PredictionId, "1")).Order(), rows.Select(r => r.RowKey).Order());
    }

    private static PredictionLogEntry Entry(string id, string version, string arm, bool served, DateTimeOffset at) => new(
        id, "fraud", version, arm, served, at, "r-1", new Dictionary<string, string> { ["consumer"] = "c1" },
        [KeyValuePair.Create("amount", 250f), KeyValuePair.Create("tiny", 1e-5f), KeyValuePair.Create("gone", float.NaN)],
        [0.25f], "review", [], 1.5);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Once armed, lets one $batch through and then fails every request, as a connection lost right after a commit would.</summary>
    private sealed class CutAfterFirstBatch : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private volatile int state; // 0 off, 1 armed, 2 cut

        public void Arm() => state = 1;

        public void Disarm() => state = 0;

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            if (state == 2)
            {
                throw new Azure.RequestFailedException("connection lost (injected)");
            }
        }

        public override void OnReceivedResponse(Azure.Core.HttpMessage message)
        {
            if (state == 1 && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
            {
                state = 2;
            }
        }
    }
}
