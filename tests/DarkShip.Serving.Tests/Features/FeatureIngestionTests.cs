using DarkShip.Serving.Features;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Serving.Tests.Features;

public sealed class FeatureIngestionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryFeatureStore store = new();
    private readonly FakeTimeProvider time = new(Now);

    private Task<IngestOutcome> IngestAsync(string csv, bool skipBadRows = false, IFeatureWriter? writer = null) =>
        new FeatureIngestion(writer ?? store, time).IngestAsync(new IngestRequest("consumer", "id", "ts", skipBadRows), () => new StringReader(csv), null, CancellationToken.None);

    [Fact]
    public async Task GoodRows_AreWrittenPerEntity_WithTypesInferredFromEveryRow()
    {
        var outcome = await IngestAsync("id,ts,count,verified,tier\nc1,2026-11-30T10:00:00Z,3,true,gold\nc1,2026-11-30T11:00:00Z,,false,silver\nc2,1764500000,7.5,TRUE,\n");

        var written = Assert.IsType<IngestOutcome.Written>(outcome);
        Assert.Equal((3L, 2, 0L), (written.Snapshots, written.Entities, written.SkippedCount));
        Assert.Equal(
            new Dictionary<string, FeatureType> { ["count"] = FeatureType.Number, ["verified"] = FeatureType.Boolean, ["tier"] = FeatureType.Text },
            (await store.GetSchemaAsync("consumer"))!.Properties);
        var latest = (await store.GetLatestAsync("consumer", "c1"))!;
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 11, 0, 0, TimeSpan.Zero), latest.AsOf);
        Assert.False(latest.Values.ContainsKey("count")); // an empty cell is a missing value
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764500000), (await store.GetLatestAsync("consumer", "c2"))!.AsOf);
    }

    [Fact]
    public async Task ABadRow_WritesNothing_AndIsNamedByLine()
    {
        var outcome = await IngestAsync("id,ts,count\nc1,2026-11-30T10:00:00Z,3\nc/2,2026-11-30T10:00:00Z,4\nc3,yesterday,5\nc4,2026-11-30T10:00:00Z,Infinity\n");

        var bad = Assert.IsType<IngestOutcome.BadRows>(outcome);
        Assert.Equal((3L, 1L), (bad.BadCount, bad.GoodCount));
        Assert.Equal([3L, 4L, 5L], bad.Rows.Select(r => r.Line));
        Assert.Contains("not an ISO 8601 instant", bad.Rows[1].Reason, StringComparison.Ordinal);
        Assert.Null(await store.GetSchemaAsync("consumer"));
    }

    [Fact]
    public async Task SkippingBadRows_WritesTheGoodOnes_AndCountsTheRest()
    {
        var written = Assert.IsType<IngestOutcome.Written>(await IngestAsync("id,ts,count\nc1,2026-11-30T10:00:00Z,3\nc1,2026-11-30T11:00:00Z,4,extra\n", skipBadRows: true));

        Assert.Equal((1L, 1L), (written.Snapshots, written.SkippedCount));
        Assert.Equal("4 fields; the header has 3", Assert.Single(written.SkippedRows).Reason);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("id,ts\n", "no value columns")]
    [InlineData("id,ts,a,a\n", "two columns have the same name")]
    [InlineData("id,ts,RowKey\n", "cannot be a property name")]
    [InlineData("key,ts,a\n", "there is no key column 'id'")]
    public async Task AFileThatCannotBeIngested_IsRefusedWithTheReason(string csv, string reason)
    {
        Assert.Contains(reason, Assert.IsType<IngestOutcome.Refused>(await IngestAsync(csv)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEntityWhoseWriteFails_IsReported_TheOthersAreWritten()
    {
        var writer = new FailingFor("c2", store);

        var written = Assert.IsType<IngestOutcome.Written>(await IngestAsync("id,ts,count\nc1,2026-11-30T10:00:00Z,3\nc2,2026-11-30T10:00:00Z,4\nc2,2026-11-30T11:00:00Z,5\n", writer: writer));

        Assert.Equal((1L, 1), (written.Snapshots, written.Entities));
        var failure = Assert.Single(written.Failures);
        Assert.Equal(("c2", 3L, "storage said no"), (failure.EntityKey, failure.FirstLine, failure.Error));
        Assert.Null(await store.GetLatestAsync("consumer", "c2"));
    }

    private sealed class FailingFor(string entity, InMemoryFeatureStore inner) : IFeatureWriter
    {
        public Task PrepareGroupAsync(FeatureGroupSchema schema, CancellationToken cancellationToken = default) => inner.PrepareGroupAsync(schema, cancellationToken);

        public Task<EntityWriteResult> WriteEntityAsync(string group, string entityKey, IReadOnlyList<FeatureSnapshot> snapshots, CancellationToken cancellationToken = default) =>
            entityKey == entity ? throw new IOException("storage said no") : inner.WriteEntityAsync(group, entityKey, snapshots, cancellationToken);
    }
}
