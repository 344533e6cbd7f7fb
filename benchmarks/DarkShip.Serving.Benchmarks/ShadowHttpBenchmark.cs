using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Core.Diagnostics;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Shadow;

/// <summary>
/// ShadowScore through its invocation path against Azurite (issue 21, point 3, second half): the handler as the host
/// runs it (HandlerApp on Kestrel, the storage account <c>AzureWebJobsStorage</c> names), sent the demo's mirror events
/// as the host sends an eventHubTrigger batch (<c>POST /ShadowScore</c>, 100 events, the custom-handler payload), from
/// four partitions at once as the host's four partition pumps would, with one shadow (XGBoost v2) and with three
/// (XGBoost v2, the ML.NET challenger, XGBoost again as v4), every shadow at 100 %. Each line-up is its own model
/// (<c>shadow1</c>, <c>shadow3</c>) so their rows and windows are apart. Prints events/s, the storage requests per
/// 1,000 events (counted from Azure.Core's request events: every Table and Blob call the handler made) and bytes
/// allocated per event by the whole process (handler, HTTP client and SDK).
/// </summary>
internal static class ShadowHttpBenchmark
{
    private const int Partitions = 4;
    private const int BatchSize = 100;

    public static async Task RunAsync(List<MirroredMessage> bodies, string demo)
    {
        var connection = Environment.GetEnvironmentVariable("AzureWebJobsStorage") ?? throw new InvalidOperationException("AzureWebJobsStorage is not set");
        var account = StorageAccount.From(new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("AzureWebJobsStorage", (string?)connection)]).Build());
        if (await DemoCommand.SeedAsync(await DemoCommand.StoresAsync(account, CancellationToken.None), new DirectoryInfo(demo), TextWriter.Null, Console.Error, CancellationToken.None) != 0)
        {
            throw new InvalidOperationException("seeding the demo failed");
        }

        var (registry, artifacts, audit) = await account.PrepareAsync(CancellationToken.None);
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, Console.Error);
        var actor = new LadderActor("benchmark", "ShadowScore over HTTP");
        var folder = Directory.CreateTempSubdirectory("darkship-shadow-http");
        var mlnet = (await registry.ReadAsync()).Of("fraud").Single(v => v.Version == "3");
        var mlnetModel = Path.Combine(folder.FullName, "mlnet.zip");
        var mlnetManifest = Path.Combine(folder.FullName, "mlnet.json");
        await File.WriteAllBytesAsync(mlnetModel, await artifacts.DownloadAsync(mlnet.ArtifactPath, mlnet.ArtifactSha256));
        await File.WriteAllBytesAsync(mlnetManifest, await artifacts.DownloadAsync(mlnet.ManifestPath, mlnet.ManifestSha256));
        (string Model, string Label)[] lineups = [("shadow1", "1: XGBoost v2"), ("shadow3", "3: XGBoost v2 + ML.NET v3 + XGBoost as v4")];
        foreach (var (model, _) in lineups)
        {
            if ((await registry.ReadAsync()).Of(model).Count > 0)
            {
                continue; // registered by an earlier run on the same account
            }

            var files = new List<(string Artifact, string Manifest)>
            {
                (Path.Combine(demo, "fraud", "model.json"), Renamed(Path.Combine(demo, "fraud", "manifest.json"), model, folder)),
                (Path.Combine(demo, "fraud-challenger", "model.json"), Renamed(Path.Combine(demo, "fraud-challenger", "manifest.json"), model, folder)),
            };
            if (model == "shadow3")
            {
                files.Add((mlnetModel, Renamed(mlnetManifest, model, folder)));
                files.Add(files[1]);
            }

            for (var v = 0; v < files.Count; v++)
            {
                Check(await cli.RegisterAsync(model, new FileInfo(files[v].Artifact), new FileInfo(files[v].Manifest), (v + 1).ToString(CultureInfo.InvariantCulture), actor, CancellationToken.None), $"register {model} v{v + 1}");
                Check(await cli.MoveAsync(v == 0 ? new LadderCommand.Promote(model, "1") : new LadderCommand.Shadow(model, (v + 1).ToString(CultureInfo.InvariantCulture), 100), actor, CancellationToken.None), $"move {model} v{v + 1}");
            }
        }

        var handler = HandlerApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = connection,
                ["MirrorHub:fullyQualifiedNamespace"] = "127.0.0.1:9", // ShadowScore sends nothing to the hub
                ["Logging:LogLevel:Default"] = "Error",
            });
            b.WebHost.UseUrls("http://127.0.0.1:0");
        });
        await handler.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(handler.Urls.First()), Timeout = TimeSpan.FromMinutes(5) };
        for (var i = 0; i < 600 && !(await client.GetAsync("/")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(50);
        }

        long requests = 0;
        var started = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var spent = new System.Collections.Concurrent.ConcurrentDictionary<string, (int Count, double Seconds)>();
        using var listener = new AzureEventSourceListener((e, _) =>
        {
            if (e.EventName == "Request")
            {
                Interlocked.Increment(ref requests);
                var uri = new Uri((string)e.Payload![2]!);
                var what = $"{e.Payload[1]} {uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).FirstOrDefault()?.Split('(')[0]}";
                started[(string)e.Payload[0]!] = what;
            }
            else if (e.EventName is "Response" or "ErrorResponse" && started.TryRemove((string)e.Payload![0]!, out var what))
            {
                var at = e.PayloadNames!.IndexOf("seconds");
                var seconds = at >= 0 && e.Payload[at] is double d ? d : 0;
                spent.AddOrUpdate(what, (1, seconds), (_, t) => (t.Count + 1, t.Seconds + seconds));
            }
        }, EventLevel.Informational);

        Console.WriteLine($"ShadowScore over HTTP on Azurite: {bodies.Count:N0} demo mirror events, batches of {BatchSize} from {Partitions} partitions at once, shadows at 100 %");
        Console.WriteLine("shadows                                      events/s   ms/batch   storage requests/1k   bytes allocated/event   failed batches");
        var round = 0;
        foreach (var (model, label) in lineups.Concat(lineups))
        {
            round++;
            var batches = Batches(bodies, model, round);
            await SendAsync(client, batches.Take(Partitions * 2).ToList()); // warm-up: connections, JIT, the lineup loaded
            Interlocked.Exchange(ref requests, 0);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            var (failed, batchMs) = await SendAsync(client, batches.Skip(Partitions * 2).ToList());
            clock.Stop();
            var sent = batches.Skip(Partitions * 2).Sum(b => b.Count);
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-44} {sent / clock.Elapsed.TotalSeconds,9:N0} {batchMs,10:F1} {Interlocked.Read(ref requests) * 1000.0 / sent,21:F1} {(bytes >= 0 ? (bytes / (double)sent).ToString("N0", CultureInfo.InvariantCulture) : "n/a"),23} {failed,16}"));
        }

        Console.WriteLine("storage calls over the whole run (count, total seconds as Azure.Core timed them):");
        foreach (var (what, (count, total)) in spent.OrderByDescending(s => s.Value.Seconds))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what,-40} {count,8} {total,10:F1} s"));
        }

        await handler.StopAsync();
        folder.Delete(recursive: true);
    }

    /// <summary>The events as batches for <paramref name="model"/>, each prediction id made unique to the round (a repeated id would be a re-delivery).</summary>
    private static List<List<string>> Batches(List<MirroredMessage> bodies, string model, int round)
    {
        var batches = new List<List<string>>();
        for (var i = 0; i < bodies.Count; i += BatchSize)
        {
            batches.Add([.. bodies.Skip(i).Take(BatchSize).Select(m =>
            {
                var e = JsonNode.Parse(m.Body)!.AsObject();
                e["model"] = model;
                var id = (string)e["predictionId"]!;
                e["predictionId"] = id[..^2] + round.ToString("X2", CultureInfo.InvariantCulture); // still 26 characters, still time-ordered
                return e.ToJsonString();
            })]);
        }

        return batches;
    }

    /// <summary>Sends the batches, <see cref="Partitions"/> at a time (one per partition, each partition in order); failed batches and the mean time per batch.</summary>
    private static async Task<(int Failed, double BatchMs)> SendAsync(HttpClient client, List<List<string>> batches)
    {
        var failed = 0;
        long ticks = 0;
        var sequence = new long[Partitions];
        await Parallel.ForEachAsync(Enumerable.Range(0, Partitions), new ParallelOptions { MaxDegreeOfParallelism = Partitions }, async (p, ct) =>
        {
            for (var b = p; b < batches.Count; b += Partitions)
            {
                var events = batches[b];
                var first = sequence[p];
                sequence[p] += events.Count;
                var payload = new JsonObject
                {
                    ["Data"] = new JsonObject { ["events"] = new JsonArray([.. events.Select(e => (JsonNode?)JsonValue.Create(e))]).ToJsonString() },
                    ["Metadata"] = new JsonObject
                    {
                        ["PartitionContext"] = new JsonObject { ["PartitionId"] = p.ToString(CultureInfo.InvariantCulture), ["EventHubName"] = "mirror", ["ConsumerGroup"] = "shadow" }.ToJsonString(),
                        ["SequenceNumberArray"] = new JsonArray([.. Enumerable.Range(0, events.Count).Select(i => (JsonNode?)(first + i))]).ToJsonString(),
                    },
                };
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("/ShadowScore", new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"), ct);
                Interlocked.Add(ref ticks, Stopwatch.GetTimestamp() - started);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        });
        return (failed, ticks * 1000.0 / Stopwatch.Frequency / Math.Max(1, batches.Count));
    }

    private static string Renamed(string manifest, string model, DirectoryInfo folder)
    {
        var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        json["name"] = model;
        json.Remove("version");
        var path = Path.Combine(folder.FullName, $"{model}-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static void Check(int code, string what)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"{what} failed ({code})");
        }
    }
}
