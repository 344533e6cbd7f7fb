using System.Diagnostics;
using System.Globalization;
using DarkShip.Storage;
using DarkShip.Storage.Tables;

// Usage: DarkShip.Storage.Benchmarks seed|read CONNECTION_STRING TABLE ENTITIES [READS] [CONCURRENCY]
// seed writes ENTITIES feature rows (partition e{i % 16}, row e{i}, 20 numeric features);
// read performs READS point reads of random rows with CONCURRENCY in flight and prints one JSON line.
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: seed|read CONNECTION_STRING TABLE ENTITIES [READS] [CONCURRENCY]");
    return 2;
}

var endpoints = StorageEndpoints.FromConnectionString(args[1]);
var table = new TableClient(endpoints, args[2]);
var entities = int.Parse(args[3], CultureInfo.InvariantCulture);

if (args[0] == "seed")
{
    await table.CreateIfNotExistsAsync();
    for (var partition = 0; partition < 16; partition++)
    {
        var rows = Enumerable.Range(0, entities).Where(i => i % 16 == partition).ToList();
        foreach (var chunk in rows.Chunk(100))
        {
            var actions = chunk.Select(i =>
            {
                var entity = new TableEntity($"e{partition}", $"e{i}");
                for (var f = 0; f < 20; f++)
                {
                    entity[$"f{f}"] = (i * 31 + f) / 7.0;
                }

                return TableTransactionAction.Upsert(entity);
            }).ToList();
            var result = await table.SubmitTransactionAsync(actions);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"seeding failed: {result.ErrorMessage}");
            }
        }
    }

    return 0;
}

var reads = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 5000;
var concurrency = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1;
var random = new Random(7);
var keys = Enumerable.Range(0, reads).Select(_ => random.Next(entities)).ToArray();

// Warm-up: connections, JIT.
for (var i = 0; i < 200; i++)
{
    await table.GetEntityAsync($"e{keys[i % reads] % 16}", $"e{keys[i % reads]}");
}

var latencies = new double[reads];
var next = -1;
var total = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < reads)
    {
        var key = keys[i];
        var started = Stopwatch.GetTimestamp();
        var entity = await table.GetEntityAsync($"e{key % 16}", $"e{key}");
        latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (entity is null)
        {
            throw new InvalidOperationException($"e{key} is missing");
        }
    }
}));
var seconds = total.Elapsed.TotalSeconds;
Array.Sort(latencies);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"client\":\"DarkShip.Storage\",\"reads\":{reads},\"concurrency\":{concurrency},\"per_second\":{reads / seconds:F1},\"p50_ms\":{latencies[reads / 2]:F3},\"p99_ms\":{latencies[(int)(reads * 0.99)]:F3}}}"));
return 0;
