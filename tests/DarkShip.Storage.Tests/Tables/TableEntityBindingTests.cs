using Azure;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;
using DarkShip.Testing.Storage;

namespace DarkShip.Storage.Tests.Tables;

/// <summary>
/// <see cref="TableEntityBinding"/>: the SDK's binder for <see cref="TableEntity"/> is never built, and a
/// <see cref="TableEntity"/> query still returns every property, typed as the service sent it.
/// </summary>
public sealed class TableEntityBindingTests
{
    private static TableClient Client(string body) => ClientWith(new FakeTransport(new FakeResponse(200, body)));

    private static TableClient ClientWith(FakeTransport transport) =>
        new StorageClients(StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true"), configure: options => options.Transport = transport).Table("features");

    [Fact]
    public void The_unbuilt_binder_is_put_for_the_referenced_SDK_version()
    {
        var version = typeof(TableEntity).Assembly.GetName().Version;
        Assert.True(
            version == TableEntityBinding.VerifiedVersion,
            $"Azure.Data.Tables is {version}, the binder shortcut was verified against {TableEntityBinding.VerifiedVersion}: read how this version's " +
            "DictionaryTableExtensions.ToTableEntityList/ToTableEntity, TableEntityExtensions.ToOdataAnnotatedDictionary and TypeBinder use the binder " +
            "of a TableEntity, then raise TableEntityBinding.VerifiedVersion (docs/performance.md, 'Handler start-up').");
        Assert.True(TableEntityBinding.SkipUnusedBinder());
        Assert.False(TableEntityBinding.IsBuilt(typeof(TableEntity)));
    }

    [Fact]
    public async Task A_TableEntity_query_returns_every_property_and_never_builds_the_binder()
    {
        var client = Client("""
            {"value":[{
              "odata.etag":"W/\"datetime'2026-12-02T06%3A00%3A00.1234567Z'\"",
              "PartitionKey":"c1","RowKey":"latest","Timestamp":"2026-12-02T06:00:00.1234567Z",
              "Text":"hello","Whole":42,"Big":"9007199254740993","Big@odata.type":"Edm.Int64",
              "Real":1.5,"NaN":"NaN","NaN@odata.type":"Edm.Double","Flag":true,
              "When":"2026-12-01T10:11:12.5Z","When@odata.type":"Edm.DateTime",
              "Id":"5f0c2a3e-9d3b-4d0e-8f5c-0a1b2c3d4e5f","Id@odata.type":"Edm.Guid",
              "Bytes":"AQID","Bytes@odata.type":"Edm.Binary"
            }]}
            """);

        var rows = new List<TableEntity>();
        await foreach (var row in client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"c1"}")))
        {
            rows.Add(row);
        }

        var entity = Assert.Single(rows);
        Assert.Equal(("c1", "latest"), (entity.PartitionKey, entity.RowKey));
        Assert.Equal(new ETag("W/\"datetime'2026-12-02T06%3A00%3A00.1234567Z'\""), entity.ETag);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero).AddTicks(1234567), entity.Timestamp);
        Assert.Equal("hello", entity["Text"]);
        Assert.Equal(42, entity["Whole"]);
        Assert.Equal(9007199254740993L, entity["Big"]);
        Assert.Equal(1.5, entity["Real"]);
        Assert.True(double.IsNaN((double)entity["NaN"]));
        Assert.Equal(true, entity["Flag"]);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 11, 12, 500, TimeSpan.Zero), entity["When"]);
        Assert.Equal(Guid.Parse("5f0c2a3e-9d3b-4d0e-8f5c-0a1b2c3d4e5f"), entity["Id"]);
        Assert.Equal(new byte[] { 1, 2, 3 }, entity["Bytes"]);
        Assert.False(TableEntityBinding.IsBuilt(typeof(TableEntity)), "the query built the binder of TableEntity");
    }

    [Fact]
    public async Task A_query_of_another_entity_type_still_gets_a_built_binder()
    {
        // What the shortcut stands on: the SDK builds a binder for the type of every query's rows. This one
        // it must build, and use, for a type of its own.
        var client = Client("""{"value":[{"PartitionKey":"c1","RowKey":"latest","Text":"hello"}]}""");
        Assert.Null(TableEntityBinding.IsBuilt(typeof(TextRow)));

        var rows = new List<TextRow>();
        await foreach (var row in client.QueryAsync<TextRow>(TableClient.CreateQueryFilter($"PartitionKey eq {"c1"}")))
        {
            rows.Add(row);
        }

        Assert.Equal("hello", Assert.Single(rows).Text);
        Assert.True(TableEntityBinding.IsBuilt(typeof(TextRow)));
        Assert.False(TableEntityBinding.IsBuilt(typeof(TableEntity)));
    }

    [Fact]
    public async Task A_TableEntity_written_and_read_by_point_keeps_its_properties()
    {
        var transport = new FakeTransport(
            new FakeResponse(204, null, ("ETag", "W/\"1\"")),
            new FakeResponse(200, """{"PartitionKey":"c1","RowKey":"latest","Text":"hello","Big":"7","Big@odata.type":"Edm.Int64"}""", ("ETag", "W/\"1\"")));
        var client = ClientWith(transport);

        await client.UpsertEntityAsync(new TableEntity("c1", "latest") { ["Text"] = "hello", ["Big"] = 7L });
        var read = (await client.GetEntityAsync<TableEntity>("c1", "latest")).Value;

        Assert.Contains("\"Big@odata.type\":\"Edm.Int64\"", transport.Requests[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"Text\":\"hello\"", transport.Requests[0].Body, StringComparison.Ordinal);
        Assert.Equal(("hello", 7L), (read["Text"], read["Big"]));
        Assert.False(TableEntityBinding.IsBuilt(typeof(TableEntity)));
    }

    public sealed class TextRow : ITableEntity
    {
        public string PartitionKey { get; set; } = "";

        public string RowKey { get; set; } = "";

        public DateTimeOffset? Timestamp { get; set; }

        public ETag ETag { get; set; }

        public string? Text { get; set; }
    }
}
