using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using DarkShip.Storage;
using DarkShip.Storage.Tables;

// DarkShip's halves of benchmarks/tables_side_by_side.sh, against one Azurite:
//   seed CONN TABLE ENTITIES                 ENTITIES feature rows (partition e{i % 16}, row e{i}, 20 numbers),
//                                            and one partition "q" of 1,000 rows for the query
//   read CLIENT CONN TABLE ENTITIES READS CONCURRENCY    point reads of random rows, CONCURRENCY in flight
//   tx CLIENT CONN TABLE ROUNDS              ROUNDS transactions of 100 upserts into one partition
//   query CLIENT CONN TABLE ROUNDS           ROUNDS reads of the whole 1,000-row partition "q"
// CLIENT is "sdk" (Azure.Data.Tables as StorageClients builds it, the adapters' way) or "rest"
// (the hand-written client of commit 8970bfb, in HandWritten/). Each prints one JSON line;
// allocated_bytes_per_op is the process's allocation divided by the operations (1 in flight for reads).
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: seed CONN TABLE ENTITIES | read|tx|query sdk|rest CONN TABLE ...");
    return 2;
}

if (args[0] == "seed")
{
    var table = new StorageClients(StorageEndpoints.FromConnectionString(args[1])).Table(args[2]);
    var entities = Int(args[3]);
    await table.CreateIfMissingAsync();
    foreach (var partition in Enumerable.Range(0, 16).Select(p => $"e{p}").Append("q"))
    {
        var rows = partition == "q" ? Enumerable.Range(0, 1000) : Enumerable.Range(0, entities).Where(i => $"e{i % 16}" == partition);
        foreach (var chunk in rows.Chunk(100))
        {
            var result = await table.TrySubmitAsync([.. chunk.Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Row(partition, $"e{i}", i)))]);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"seeding failed: {result.ErrorMessage}");
            }
        }
    }

    return 0;
}

var client = args[1];
var endpoints = StorageEndpoints.FromConnectionString(args[2]);
var tableName = args[3];
IBenchClient bench = client switch
{
    "sdk" => new SdkClient(new StorageClients(endpoints).Table(tableName)),
    "rest" => new RestClient(new HandWritten.TableClient(endpoints, tableName)),
    _ => throw new ArgumentException($"unknown client '{client}'"),
};
var label = client == "sdk" ? "Azure.Data.Tables 12.13.0" : "hand-written (8970bfb)";

switch (args[0])
{
    case "read":
    {
        var entities = Int(args[4]);
        var reads = Int(args[5]);
        var concurrency = Int(args[6]);
        var random = new Random(7);
        var keys = Enumerable.Range(0, reads).Select(_ => random.Next(entities)).ToArray();
        for (var i = 0; i < 200; i++)
        {
            await bench.ReadAsync($"e{keys[i % reads] % 16}", $"e{keys[i % reads]}"); // warm-up: connections, JIT
        }

        var result = await TimeAsync(reads, concurrency, i => bench.ReadAsync($"e{keys[i] % 16}", $"e{keys[i]}"));
        Console.WriteLine(Json("read", label, reads, concurrency, result));
        break;
    }

    case "tx":
    {
        var rounds = Int(args[4]);
        await bench.TransactionAsync(-1); // warm-up
        var result = await TimeAsync(rounds, 1, bench.TransactionAsync);
        Console.WriteLine(Json("tx100", label, rounds, 1, result));
        break;
    }

    case "query":
    {
        var rounds = Int(args[4]);
        await bench.QueryAsync(); // warm-up
        var result = await TimeAsync(rounds, 1, _ => bench.QueryAsync());
        Console.WriteLine(Json("query1000", label, rounds, 1, result));
        break;
    }

    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}'");
        return 2;
}

return 0;

static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);

static TableEntity Row(string partition, string row, int i)
{
    var entity = new TableEntity(partition, row);
    for (var f = 0; f < 20; f++)
    {
        entity[$"f{f}"] = (i * 31 + f) / 7.0;
    }

    return entity;
}

static async Task<(double Seconds, double[] Latencies, double AllocatedPerOp)> TimeAsync(int operations, int concurrency, Func<int, Task> operation)
{
    var latencies = new double[operations];
    var next = -1;
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var total = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < operations)
        {
            var started = Stopwatch.GetTimestamp();
            await operation(i);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
    }));
    var seconds = total.Elapsed.TotalSeconds;
    var perOp = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)operations;
    Array.Sort(latencies);
    return (seconds, latencies, perOp);
}

static string Json(string operation, string client, int operations, int concurrency, (double Seconds, double[] Latencies, double AllocatedPerOp) r) =>
    string.Create(CultureInfo.InvariantCulture,
        $"{{\"operation\":\"{operation}\",\"client\":\"{client}\",\"operations\":{operations},\"concurrency\":{concurrency},\"per_second\":{operations / r.Seconds:F1},\"p50_ms\":{r.Latencies[operations / 2]:F3},\"p99_ms\":{r.Latencies[(int)(operations * 0.99)]:F3},\"allocated_bytes_per_op\":{r.AllocatedPerOp:F0}}}");

/// <summary>The three operations measured, by either client.</summary>
internal interface IBenchClient
{
    Task ReadAsync(string partition, string row);

    Task TransactionAsync(int round);

    Task QueryAsync();
}

internal sealed class SdkClient(TableClient table) : IBenchClient
{
    public async Task ReadAsync(string partition, string row)
    {
        _ = await table.GetOrNullAsync(partition, row) ?? throw new InvalidOperationException($"{row} is missing");
    }

    public async Task TransactionAsync(int round)
    {
        var result = await table.TrySubmitAsync([.. Enumerable.Range(0, 100).Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Rows.Sdk($"tx{round & 7}", $"r{i}", i)))]);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(result.ErrorMessage);
        }
    }

    public async Task QueryAsync()
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"q"}")))
        {
            count++;
        }

        if (count != 1000)
        {
            throw new InvalidOperationException($"the query read {count} rows");
        }
    }
}

internal sealed class RestClient(HandWritten.TableClient table) : IBenchClient
{
    public async Task ReadAsync(string partition, string row)
    {
        _ = await table.GetEntityAsync(partition, row) ?? throw new InvalidOperationException($"{row} is missing");
    }

    public async Task TransactionAsync(int round)
    {
        var result = await table.SubmitTransactionAsync([.. Enumerable.Range(0, 100).Select(i => HandWritten.TableTransactionAction.Upsert(Rows.Rest($"tx{round & 7}", $"r{i}", i), HandWritten.TableUpdateMode.Replace))]);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(result.ErrorMessage);
        }
    }

    public async Task QueryAsync()
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync(HandWritten.ODataFilter.Create($"PartitionKey eq {"q"}")))
        {
            count++;
        }

        if (count != 1000)
        {
            throw new InvalidOperationException($"the query read {count} rows");
        }
    }
}

internal static class Rows
{
    public static TableEntity Sdk(string partition, string row, int i)
    {
        var entity = new TableEntity(partition, row);
        for (var f = 0; f < 20; f++)
        {
            entity[$"f{f}"] = (i * 31 + f) / 7.0;
        }

        return entity;
    }

    public static HandWritten.TableEntity Rest(string partition, string row, int i)
    {
        var entity = new HandWritten.TableEntity(partition, row);
        for (var f = 0; f < 20; f++)
        {
            entity[$"f{f}"] = (i * 31 + f) / 7.0;
        }

        return entity;
    }
}
