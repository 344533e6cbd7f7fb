using Azure;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.IntegrationTests;

[Collection(AzuriteCollection.Name)]
public sealed class TableClientTests(AzuriteFixture azurite)
{
    private async Task<TableClient> NewTableAsync()
    {
        var table = new TableClient(azurite.Endpoints, "t" + Guid.NewGuid().ToString("N")[..20]);
        Assert.True(await table.CreateIfNotExistsAsync());
        return table;
    }

    [Fact]
    public async Task CreateIfNotExists_Twice_SecondReportsExisting()
    {
        var table = await NewTableAsync();

        Assert.False(await table.CreateIfNotExistsAsync());
    }

    [Fact]
    public async Task AddThenGet_EveryPropertyType_RoundTripsWithItsType()
    {
        var table = await NewTableAsync();
        var when = new DateTimeOffset(2026, 11, 22, 10, 30, 15, 123, TimeSpan.Zero).AddTicks(4567);
        var id = Guid.NewGuid();
        var entity = new TableEntity("consumer", "c1")
        {
            ["name"] = "Ada",
            ["score"] = 0.25,
            ["wholeDouble"] = 5.0,
            ["notANumber"] = double.NaN,
            ["count"] = 42,
            ["big"] = 1L << 40,
            ["active"] = true,
            ["seen"] = when,
            ["id"] = id,
            ["blob"] = new byte[] { 0, 1, 2, 255 },
        };

        var added = await table.AddEntityAsync(entity);
        var read = await table.GetEntityAsync("consumer", "c1");

        Assert.Equal(TableWriteStatus.Written, added.Status);
        Assert.NotNull(read);
        Assert.Equal("Ada", read["name"]);
        Assert.Equal(0.25, read["score"]);
        Assert.IsType<double>(read["wholeDouble"]);
        Assert.Equal(5.0, read["wholeDouble"]);
        Assert.True(double.IsNaN(Assert.IsType<double>(read["notANumber"])));
        Assert.Equal(42, read["count"]);
        Assert.Equal(1L << 40, read["big"]);
        Assert.Equal(true, read["active"]);
        Assert.Equal(when, read["seen"]);
        Assert.Equal(id, read["id"]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, read["blob"]);
        Assert.Equal(added.ETag, read.ETag);
        Assert.NotNull(read.Timestamp);
    }

    [Fact]
    public async Task GetEntity_Missing_ReturnsNull()
    {
        var table = await NewTableAsync();

        Assert.Null(await table.GetEntityAsync("nobody", "nothing"));
    }

    [Fact]
    public async Task GetEntity_Select_ReturnsOnlyThoseProperties()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        var read = await table.GetEntityAsync("p", "r", select: ["a", "c"]);

        Assert.Equal(1, read!["a"]);
        Assert.Null(read["b"]);
        Assert.Equal(3, read["c"]);
    }

    [Fact]
    public async Task Add_ExistingKeys_IsAlreadyExistsOutcome()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["v"] = 1 });

        var again = await table.AddEntityAsync(new TableEntity("p", "r") { ["v"] = 2 });

        Assert.Equal(TableWriteStatus.AlreadyExists, again.Status);
        Assert.Equal(1, (await table.GetEntityAsync("p", "r"))!["v"]);
    }

    [Fact]
    public async Task Update_StaleETag_IsPreconditionFailedAndWritesNothing()
    {
        var table = await NewTableAsync();
        var first = await table.AddEntityAsync(new TableEntity("p", "r") { ["v"] = 1 });
        var second = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["v"] = 2 }, first.ETag);

        var stale = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["v"] = 3 }, first.ETag);

        Assert.Equal(TableWriteStatus.Written, second.Status);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(TableWriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(2, (await table.GetEntityAsync("p", "r"))!["v"]);
    }

    [Fact]
    public async Task TwoConcurrentUpdates_SameETag_ExactlyOneWins()
    {
        var table = await NewTableAsync();
        var start = await table.AddEntityAsync(new TableEntity("models", "fraud") { ["stage"] = "Shadow" });

        var results = await Task.WhenAll(
            table.UpdateEntityAsync(new TableEntity("models", "fraud") { ["stage"] = "Experiment" }, start.ETag),
            table.UpdateEntityAsync(new TableEntity("models", "fraud") { ["stage"] = "Retired" }, start.ETag));

        Assert.Single(results, r => r.Status == TableWriteStatus.Written);
        Assert.Single(results, r => r.Status == TableWriteStatus.PreconditionFailed);
    }

    [Fact]
    public async Task Upsert_MergeKeepsOtherProperties_ReplaceDropsThem()
    {
        var table = await NewTableAsync();
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["a"] = 1, ["b"] = 2 });

        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["a"] = 10 }, TableUpdateMode.Merge);
        var merged = await table.GetEntityAsync("p", "r");
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["a"] = 100 }, TableUpdateMode.Replace);
        var replaced = await table.GetEntityAsync("p", "r");

        Assert.Equal(10, merged!["a"]);
        Assert.Equal(2, merged["b"]);
        Assert.Equal(100, replaced!["a"]);
        Assert.Null(replaced["b"]);
    }

    [Fact]
    public async Task Delete_WithStaleETagThenCurrent_RefusesThenDeletes()
    {
        var table = await NewTableAsync();
        var first = await table.AddEntityAsync(new TableEntity("p", "r") { ["v"] = 1 });
        var current = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["v"] = 2 }, ETag.All);

        var stale = await table.DeleteEntityAsync("p", "r", first.ETag);
        var deleted = await table.DeleteEntityAsync("p", "r", current.ETag);
        var missing = await table.DeleteEntityAsync("p", "r");

        Assert.Equal(TableWriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(TableWriteStatus.Written, deleted.Status);
        Assert.Equal(TableWriteStatus.NotFound, missing.Status);
    }

    [Fact]
    public async Task QueryPages_SmallPages_StreamsEverythingWithContinuationTokens()
    {
        var table = await NewTableAsync();
        for (var i = 0; i < 25; i++)
        {
            await table.AddEntityAsync(new TableEntity(i % 2 == 0 ? "even" : "odd", $"r{i:D3}") { ["i"] = i });
        }

        var pages = new List<TablePage>();
        await foreach (var page in table.QueryPagesAsync(maxPerPage: 4))
        {
            pages.Add(page);
        }

        var resumed = new List<TableEntity>();
        await foreach (var page in table.QueryPagesAsync(maxPerPage: 4, continuationToken: pages[2].ContinuationToken))
        {
            resumed.AddRange(page.Entities);
        }

        Assert.Equal(25, pages.Sum(p => p.Entities.Count));
        Assert.All(pages.SkipLast(1), p => Assert.NotNull(p.ContinuationToken));
        Assert.Null(pages[^1].ContinuationToken);
        Assert.Equal(25 - 12, resumed.Count);
    }

    [Fact]
    public async Task Query_FilterAndSelect_ReturnsMatchingWithSelectedProperties()
    {
        var table = await NewTableAsync();
        for (var i = 0; i < 10; i++)
        {
            await table.AddEntityAsync(new TableEntity("p", $"r{i}") { ["i"] = i, ["big"] = (long)i * 1_000_000_000_000, ["label"] = $"n{i}" });
        }

        var found = new List<TableEntity>();
        await foreach (var e in table.QueryAsync(ODataFilter.Create($"PartitionKey eq {"p"} and i ge {7}"), select: ["i"]))
        {
            found.Add(e);
        }

        var bigOnes = 0;
        await foreach (var _ in table.QueryAsync(ODataFilter.Create($"big gt {5_000_000_000_000L}")))
        {
            bigOnes++;
        }

        Assert.Equal([7, 8, 9], found.Select(e => (int)e["i"]!).Order());
        Assert.All(found, e => Assert.Null(e["label"]));
        Assert.Equal(4, bigOnes);
    }

    [Theory]
    [InlineData("' or PartitionKey ne '")]
    [InlineData("x' or 'a' eq 'a")]
    [InlineData("''")]
    [InlineData("O'Brien")]
    [InlineData(") or (1 eq 1")]
    public async Task Query_HostileKeyValue_MatchesOnlyThatLiteralValue(string hostile)
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("victim", "secret") { ["v"] = 1 });
        await table.AddEntityAsync(new TableEntity(hostile, "mine") { ["v"] = 2 });

        var found = new List<TableEntity>();
        await foreach (var e in table.QueryAsync(ODataFilter.Create($"PartitionKey eq {hostile}")))
        {
            found.Add(e);
        }

        var read = await table.GetEntityAsync(hostile, "mine");

        var only = Assert.Single(found);
        Assert.Equal(hostile, only.PartitionKey);
        Assert.Equal(2, read!["v"]);
    }

    [Theory]
    [InlineData("victim/secret")]
    [InlineData("..\\victim")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("tab\there")]
    public async Task PointRead_KeyThatCouldChangeTheUrl_IsRefusedBeforeSending(string hostile)
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.GetEntityAsync(hostile, "r"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.DeleteEntityAsync("p", hostile));
    }

    [Fact]
    public async Task Transaction_AllSucceed_AppliesEveryAction()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "old") { ["v"] = 0 });
        var actions = Enumerable.Range(0, 99)
            .Select(i => TableTransactionAction.Add(new TableEntity("p", $"r{i:D3}") { ["v"] = i }))
            .Append(TableTransactionAction.Delete(new TableEntity("p", "old")))
            .ToList();

        var result = await table.SubmitTransactionAsync(actions);

        var count = 0;
        await foreach (var _ in table.QueryAsync(ODataFilter.Create($"PartitionKey eq {"p"}")))
        {
            count++;
        }

        Assert.True(result.Succeeded);
        Assert.Equal(99, count);
        Assert.Null(await table.GetEntityAsync("p", "old"));
    }

    [Fact]
    public async Task Transaction_OneActionFails_NothingIsWrittenAndTheFailureIsNamed()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "taken") { ["v"] = 0 });

        var result = await table.SubmitTransactionAsync(
        [
            TableTransactionAction.Add(new TableEntity("p", "new1")),
            TableTransactionAction.Add(new TableEntity("p", "taken")),
            TableTransactionAction.Add(new TableEntity("p", "new2")),
        ]);

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.FailedActionIndex);
        Assert.Equal(409, result.FailedStatus);
        Assert.Null(await table.GetEntityAsync("p", "new1"));
        Assert.Null(await table.GetEntityAsync("p", "new2"));
    }

    [Fact]
    public async Task Transaction_TwoPartitionsOrTooMany_IsRefusedBeforeSending()
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [TableTransactionAction.Add(new TableEntity("a", "1")), TableTransactionAction.Add(new TableEntity("b", "1"))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [.. Enumerable.Range(0, 101).Select(i => TableTransactionAction.Add(new TableEntity("a", $"{i}")))]));
    }

    [Fact]
    public async Task WrongAccountKey_ThrowsRequestFailedWithStatus()
    {
        var wrong = azurite.Endpoints with { AccountKey = Convert.ToBase64String(new byte[64]) };
        var table = new TableClient(wrong, "tneverthere");

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync("p", "r"));

        Assert.Equal(403, e.Status);
    }
}
