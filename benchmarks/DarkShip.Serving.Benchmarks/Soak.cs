using System.Diagnostics;
using System.Globalization;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Mirror;

/// <summary>
/// The soak (benchmarks/soak.sh, issue 20): the whole local system in this process (handler, front
/// door, hub, timers) on the Azurite that <c>AzureWebJobsStorage</c> names, the demo seeded with the
/// challenger shadowing at 100 %, then predictions at a fixed rate (open loop) for N minutes. Each
/// minute prints the process's RSS and GC heap (after a collection), p50/p99 and errors, so a leak
/// shows as a slope.
/// </summary>
internal static class Soak
{
    public static async Task RunAsync(string root, int rate, int minutes)
    {
        var connection = Environment.GetEnvironmentVariable("AzureWebJobsStorage")!;
        var account = StorageAccount.From(new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("AzureWebJobsStorage", (string?)connection)]).Build());
        var demo = new DirectoryInfo(Path.Combine(root, "demo"));
        if (await DemoCommand.SeedAsync(await DemoCommand.StoresAsync(account, CancellationToken.None), demo, TextWriter.Null, Console.Error, CancellationToken.None) != 0)
        {
            throw new InvalidOperationException("seeding the demo failed");
        }

        var (registry, artifacts, audit) = await account.PrepareAsync(CancellationToken.None);
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, Console.Error);
        await cli.MoveAsync(new LadderCommand.Shadow("fraud", "2", 100), new LadderActor("soak", "shadow at 100 %"), CancellationToken.None); // a no-op when already there

        var settings = new LocalSettings(new Dictionary<string, string>(DarkShip.Functions.Definitions.FunctionCatalog.SettingDefaults)
        {
            ["AzureWebJobsStorage"] = connection,
            ["Logging__LogLevel__Default"] = "Error", // feature reads past the budget are warnings: thousands in a soak
        });
        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        var random = new Random(11);
        var mirror = run.HandlerServices.GetRequiredService<BatchingQueue<MirrorEvent>>();
        var log = run.HandlerServices.GetRequiredService<BatchingQueue<PredictionLogEntry>>();
        Console.WriteLine("minute  requests  errors  p50 ms  p99 ms  rss MiB  gc heap MiB  hub backlog  queued (mirror, log)  lost (mirror, log)");
        for (var minute = 1; minute <= minutes; minute++)
        {
            var latencies = new List<double>();
            var errors = 0;
            var started = Stopwatch.GetTimestamp();
            var tasks = new List<Task>();
            for (var i = 0; i < rate * 60; i++)
            {
                var due = started + (long)(i * (double)Stopwatch.Frequency / rate);
                while (Stopwatch.GetTimestamp() < due)
                {
                    await Task.Delay(1);
                }

                var body = new
                {
                    entities = new { consumer = $"c{random.Next(1, 2001)}", store = $"s{random.Next(1, 201)}" },
                    features = new { amount = Math.Round(random.NextDouble() * 500, 2), hour_of_day = random.Next(0, 24) },
                };
                tasks.Add(Task.Run(async () =>
                {
                    var begun = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await client.PostAsJsonAsync("/api/predict/fraud", body);
                        if (!response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref errors);
                    }

                    lock (latencies)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(begun).TotalMilliseconds);
                    }
                }));
            }

            await Task.WhenAll(tasks);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var sorted = latencies.Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{minute,6}  {sorted.Length,8}  {errors,6}  {sorted[sorted.Length / 2],6:F2}  {sorted[(int)(sorted.Length * 0.99)],6:F2}  {Environment.WorkingSet / 1048576.0,7:F1}  {GC.GetTotalMemory(false) / 1048576.0,11:F1}  {run.Triggers.Hub!.Backlog,11}  {mirror.Buffered,8}, {log.Buffered,8}  {mirror.Failed + mirror.Dropped,8}, {log.Failed + log.Dropped,8}"));
        }
    }
}
