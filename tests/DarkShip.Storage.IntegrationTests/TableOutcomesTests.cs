using Azure;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.IntegrationTests;

/// <summary>
/// Azure.Data.Tables on Azurite, through the clients the app builds (<see cref="StorageClients"/>) and
/// the typed outcomes the adapters branch on (<see cref="TableOutcomes"/>): the semantics the
/// hand-written client had, held by the SDK.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TableOutcomesTests(AzuriteFixture azurite)
{
    private async Task<TableClient> NewTableAsync()
    {
        var table = azurite.Table("t" + Guid.NewGuid().ToString("N")[..20]);
        Assert.True(await table.CreateIfMissingAsync());
        return table;
    }

    [Fact]
    public async Task CreateIfNotExists_Twice_SecondReportsExisting()
    {
        var table = await NewTableAsync();

        Assert.False(await table.CreateIfMissingAsync());
    }

    [Fact]
    public async Task QueryIfExists_TableNeverCreated_ReadsAsEmpty_WhileAPlainQueryThrows404()
    {
        var table = azurite.Table("t" + Guid.NewGuid().ToString("N")[..20]);

        var rows = await table.QueryIfExistsAsync(TableClient.CreateQueryFilter($"PartitionKey eq {"p"}")).ToListAsync();
        var plain = await Assert.ThrowsAsync<RequestFailedException>(async () => await table.QueryAsync<TableEntity>().ToListAsync());

        Assert.Empty(rows);
        Assert.Equal(404, plain.Status);
        Assert.Equal(TableWriteStatus.NotFound, (await table.TryAddAsync(new TableEntity("p", "r"))).Status);
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
            ["infinite"] = double.NegativeInfinity,
            ["nothing"] = null,
            ["count"] = 42,
            ["big"] = 1L << 40,
            ["active"] = true,
            ["seen"] = when,
            ["id"] = id,
            ["blob"] = new byte[] { 0, 1, 2, 255 },
        };

        var added = await table.TryAddAsync(entity);
        var read = await table.GetOrNullAsync("consumer", "c1");

        Assert.Equal(TableWriteStatus.Written, added.Status);
        Assert.NotNull(read);
        Assert.Equal("Ada", read["name"]);
        Assert.Equal(0.25, read["score"]);
        Assert.IsType<double>(read["wholeDouble"]);
        Assert.Equal(5.0, read["wholeDouble"]);
        Assert.True(double.IsNaN(Assert.IsType<double>(read["notANumber"])));
        Assert.Equal(double.NegativeInfinity, read["infinite"]);
        Assert.False(read.ContainsKey("nothing"));
        Assert.False(read.ContainsKey("notANumber@odata.type")); // the annotation is the service's, not a property
        Assert.Equal(42, read["count"]);
        Assert.Equal(1L << 40, read["big"]);
        Assert.Equal(true, read["active"]);
        Assert.Equal(when, read["seen"]);
        Assert.Equal(id, read["id"]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, read["blob"]);
        Assert.Equal(added.ETag, read.ETag);
        Assert.NotNull(read.Timestamp);
        Assert.Equal(double.NaN, entity["notANumber"]); // the caller's entity is not rewritten
    }

    [Fact]
    public async Task GetEntity_Missing_ReturnsNull()
    {
        var table = await NewTableAsync();

        Assert.Null(await table.GetOrNullAsync("nobody", "nothing"));
    }

    [Fact]
    public async Task GetEntity_Select_ReturnsOnlyThoseProperties()
    {
        var table = await NewTableAsync();
        await table.TryAddAsync(new TableEntity("p", "r") { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        var read = await table.GetOrNullAsync("p", "r", ["a", "c"]);

        Assert.Equal(1, read!["a"]);
        Assert.Null(read["b"]);
        Assert.Equal(3, read["c"]);
    }

    [Fact]
    public async Task Add_ExistingKeys_IsAlreadyExistsOutcome()
    {
        var table = await NewTableAsync();
        await table.TryAddAsync(new TableEntity("p", "r") { ["v"] = 1 });

        var again = await table.TryAddAsync(new TableEntity("p", "r") { ["v"] = 2 });

        Assert.Equal(TableWriteStatus.AlreadyExists, again.Status);
        Assert.Equal(1, (await table.GetOrNullAsync("p", "r"))!["v"]);
    }

    [Fact]
    public async Task Update_StaleETag_IsPreconditionFailedAndWritesNothing()
    {
        var table = await NewTableAsync();
        var first = await table.TryAddAsync(new TableEntity("p", "r") { ["v"] = 1 });
        var second = await table.TryUpdateAsync(new TableEntity("p", "r") { ["v"] = 2 }, first.ETag);

        var stale = await table.TryUpdateAsync(new TableEntity("p", "r") { ["v"] = 3 }, first.ETag);

        Assert.Equal(TableWriteStatus.Written, second.Status);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(TableWriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(2, (await table.GetOrNullAsync("p", "r"))!["v"]);
    }

    [Fact]
    public async Task TwoConcurrentUpdates_SameETag_ExactlyOneWins()
    {
        var table = await NewTableAsync();
        var start = await table.TryAddAsync(new TableEntity("models", "fraud") { ["stage"] = "Shadow" });

        var results = await Task.WhenAll(
            table.TryUpdateAsync(new TableEntity("models", "fraud") { ["stage"] = "Experiment" }, start.ETag),
            table.TryUpdateAsync(new TableEntity("models", "fraud") { ["stage"] = "Retired" }, start.ETag));

        Assert.Single(results, r => r.Status == TableWriteStatus.Written);
        Assert.Single(results, r => r.Status == TableWriteStatus.PreconditionFailed);
    }

    [Fact]
    public async Task Upsert_MergeKeepsOtherProperties_ReplaceDropsThem()
    {
        var table = await NewTableAsync();
        await table.UpsertAsync(new TableEntity("p", "r") { ["a"] = 1, ["b"] = 2 }, TableUpdateMode.Merge);

        await table.UpsertAsync(new TableEntity("p", "r") { ["a"] = 10 }, TableUpdateMode.Merge);
        var merged = await table.GetOrNullAsync("p", "r");
        await table.UpsertAsync(new TableEntity("p", "r") { ["a"] = 100 }, TableUpdateMode.Replace);
        var replaced = await table.GetOrNullAsync("p", "r");

        Assert.Equal(10, merged!["a"]);
        Assert.Equal(2, merged["b"]);
        Assert.Equal(100, replaced!["a"]);
        Assert.Null(replaced["b"]);
    }

    [Fact]
    public async Task Delete_WithStaleETagThenCurrent_RefusesThenDeletes()
    {
        var table = await NewTableAsync();
        var first = await table.TryAddAsync(new TableEntity("p", "r") { ["v"] = 1 });
        var current = await table.TryUpdateAsync(new TableEntity("p", "r") { ["v"] = 2 }, ETag.All);

        var stale = await table.TryDeleteAsync("p", "r", first.ETag);
        var deleted = await table.TryDeleteAsync("p", "r", current.ETag);
        var missing = await table.TryDeleteAsync("p", "r");

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
            await table.TryAddAsync(new TableEntity(i % 2 == 0 ? "even" : "odd", $"r{i:D3}") { ["i"] = i });
        }

        var pages = new List<Page<TableEntity>>();
        await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: 4).AsPages())
        {
            pages.Add(page);
        }

        var resumed = new List<TableEntity>();
        await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: 4).AsPages(pages[2].ContinuationToken))
        {
            resumed.AddRange(page.Values);
        }

        Assert.Equal(25, pages.Sum(p => p.Values.Count));
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
            await table.TryAddAsync(new TableEntity("p", $"r{i}") { ["i"] = i, ["big"] = (long)i * 1_000_000_000_000, ["label"] = $"n{i}" });
        }

        var found = new List<TableEntity>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"p"} and i ge {7}"), select: ["i"]))
        {
            found.Add(e);
        }

        var bigOnes = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"big gt {5_000_000_000_000L}")))
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
        await table.TryAddAsync(new TableEntity("victim", "secret") { ["v"] = 1 });
        await table.TryAddAsync(new TableEntity(hostile, "mine") { ["v"] = 2 });

        var found = new List<TableEntity>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {hostile}")))
        {
            found.Add(e);
        }

        var read = await table.GetOrNullAsync(hostile, "mine");

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

        await Assert.ThrowsAsync<ArgumentException>(() => table.GetOrNullAsync(hostile, "r"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.TryDeleteAsync("p", hostile));
    }

    [Fact]
    public async Task Transaction_AllSucceed_AppliesEveryAction()
    {
        var table = await NewTableAsync();
        await table.TryAddAsync(new TableEntity("p", "old") { ["v"] = 0 });
        var actions = Enumerable.Range(0, 99)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"r{i:D3}") { ["v"] = i }))
            .Append(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("p", "old")))
            .ToList();

        var result = await table.TrySubmitAsync(actions);

        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"p"}")))
        {
            count++;
        }

        Assert.True(result.Succeeded);
        Assert.Equal(99, count);
        Assert.Null(await table.GetOrNullAsync("p", "old"));
    }

    [Fact]
    public async Task Transaction_OneActionFails_NothingIsWrittenAndTheFailureIsNamed()
    {
        var table = await NewTableAsync();
        await table.TryAddAsync(new TableEntity("p", "taken") { ["v"] = 0 });

        var result = await table.TrySubmitAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "new1")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "taken")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "new2")),
        ]);

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.FailedActionIndex);
        Assert.Equal(409, result.FailedStatus);
        Assert.Null(await table.GetOrNullAsync("p", "new1"));
        Assert.Null(await table.GetOrNullAsync("p", "new2"));
    }

    [Fact]
    public async Task Transaction_TwoPartitionsOrTooMany_IsRefusedBeforeSending()
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.TrySubmitAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a", "1")), new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("b", "1"))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.TrySubmitAsync(
            [.. Enumerable.Range(0, 101).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a", $"{i}")))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.TrySubmitAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a", "1")), new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("a", "1"))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.TrySubmitAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a/b", "1"))]));
        Assert.Empty(await table.QueryAsync<TableEntity>().ToListAsync()); // nothing was sent
    }

    [Fact]
    public async Task WrongAccountKey_ThrowsRequestFailedWithStatus()
    {
        var wrong = StorageEndpoints.FromConnectionString(azurite.ConnectionString.Replace(StorageEndpoints.DevelopmentKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal));
        var table = new StorageClients(wrong).Table("tneverthere");

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetOrNullAsync("p", "r"));

        Assert.Equal(403, e.Status);
    }
}
