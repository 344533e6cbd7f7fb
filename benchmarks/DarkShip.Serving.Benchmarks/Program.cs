using System.Diagnostics;
using System.Globalization;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using Microsoft.Extensions.Logging.Abstractions;

// Usage:
//   inprocess [--rate 1000] [--seconds 10]   the handler with in-memory stores: PredictionService alone
//                                             with and without the mirror, then HTTP through Kestrel
//   http --url URL [--rate 300] [--seconds 20]   a running system (./run.sh or the script's own)
//   drift [--predictions 1000000]            DriftMonitor's cost against predictions and windows (benchmarks/drift.sh)
//   seed-log [--rows 100000]                 a model log to export (benchmarks/export.sh)
//   outcomes [--models 10] [--outcomes 1000] one POST of outcomes joined to the model log (benchmarks/outcomes.sh)
//   soak [--rate 100] [--minutes 10]         the whole local system at a fixed rate, a line a minute (benchmarks/soak.sh)
//   shadow [--events 20000]                  ShadowScore's own cost with in-memory stores, one to three shadows (benchmarks/shadow.sh)
//   shadow-http [--events 20000]             ShadowScore over HTTP on AzureWebJobsStorage, one and three shadows (benchmarks/shadow.sh)
//   timers [--models 50]                     DriftMonitor and PromoteModels at fleet size on AzureWebJobsStorage (benchmarks/timers.sh)
var mode = args.FirstOrDefault() ?? "inprocess";
var rate = Option("--rate", mode == "http" ? 300 : 1000);
var seconds = Option("--seconds", mode == "http" ? 20 : 10);
var demo = Path.Combine(FindRoot(), "demo");
var random = new Random(7);
object Body() => new
{
    entities = new { consumer = $"c{random.Next(1, 2001)}", store = $"s{random.Next(1, 201)}" },
    features = new { amount = Math.Round(random.NextDouble() * 500, 2), hour_of_day = random.Next(0, 24) },
};

if (mode == "http")
{
    var url = args.SkipWhile(a => a != "--url").Skip(1).FirstOrDefault() ?? "http://127.0.0.1:7071";
    using var client = new HttpClient { BaseAddress = new Uri(url) };
    var degraded = 0;
    async Task CallAsync(int _)
    {
        using var r = await client.PostAsJsonAsync("/api/predict/fraud", Body());
        r.EnsureSuccessStatusCode();
        if ((await r.Content.ReadAsStringAsync()).Contains("timedOut", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref degraded);
        }
    }

    await FixedRateAsync(rate, 3, CallAsync); // warm-up: JIT, connections, Azurite's caches
    degraded = 0;
    var e2e = await FixedRateAsync(rate, seconds, CallAsync);
    Report("end to end (HTTP → front door → handler → Azurite)", e2e);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  answers with a feature read past the 50 ms budget: {degraded} of {e2e.Count} ({100.0 * degraded / e2e.Count:F2} %)"));
    return;
}

if (mode == "soak")
{
    // soak [--rate 100] [--minutes 10]: the whole local system under a fixed rate, a line a minute (benchmarks/soak.sh).
    await Soak.RunAsync(FindRoot(), Option("--rate", 100), Option("--minutes", 10));
    return;
}

if (mode == "outcomes")
{
    // outcomes [--models 10] [--outcomes 1000]: one POST of outcomes joined to the model log (benchmarks/outcomes.sh).
    await OutcomeJoinBenchmark.RunAsync(Option("--models", 10), Option("--outcomes", 1000));
    return;
}

if (mode == "timers")
{
    // timers [--models 50]: the timers over a fleet of models with three live versions each (benchmarks/timers.sh).
    await FleetTimers.RunAsync(demo, Option("--models", 50));
    return;
}

if (mode == "seed-log")
{
    // seed-log [--rows 100000]: a model log to export, in the account AzureWebJobsStorage names (benchmarks/export.sh).
    await ExportSeed.RunAsync(Option("--rows", 100_000));
    return;
}

var (store, registry) = await DemoStoresAsync(demo);
if (mode == "shadow-http")
{
    // shadow-http [--events 20000]: ShadowScore through its invocation path against Azurite.
    var demoCache = new ModelCache(registry, registry, store, NullLogger<ModelCache>.Instance);
    await demoCache.RefreshAsync();
    await ShadowHttpBenchmark.RunAsync(await ShadowBenchmark.MirrorBodiesAsync(demoCache, store, new ServingOptions(), Option("--events", 20_000)), demo);
    return;
}

if (mode == "shadow")
{
    // shadow [--events 20000]: ShadowScore's own cost per instance with in-memory stores.
    await ShadowBenchmark.RunAsync(store, registry, Option("--events", 20_000));
    return;
}

if (mode == "drift")
{
    // drift [--predictions 1000000]: DriftMonitor's cost at 1 %, 10 % and 100 % of that many logged predictions.
    var most = Option("--predictions", 1_000_000);
    await DriftBenchmark.RunAsync(store, registry, [most / 100, most / 10, most]);
    return;
}

// 1. PredictionService alone: the handler's own work, no HTTP, no storage (features in memory).
var options = new ServingOptions();
var cache = new ModelCache(registry, registry, store, NullLogger<ModelCache>.Instance);
await cache.RefreshAsync();
var reader = new FeatureReader(store, TimeProvider.System, options, NullLogger<FeatureReader>.Instance);
var queue = new BatchingQueue<MirrorEvent>("mirror", new DiscardingSink<MirrorEvent>(), new BatchingOptions(), TimeProvider.System, NullLogger.Instance);
queue.Start();
var log = new BatchingQueue<PredictionLogEntry>("log", new DiscardingSink<PredictionLogEntry>(), new BatchingOptions(), TimeProvider.System, NullLogger.Instance);
log.Start();
var withMirror = new PredictionService(cache, reader, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance), new QueuedMirrorPublisher(queue), new QueuedPredictionLog(log), TimeProvider.System, options, NullLogger<PredictionService>.Instance);
var withoutMirror = new PredictionService(cache, reader, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance), new NoMirror(), new QueuedPredictionLog(log), TimeProvider.System, options, NullLogger<PredictionService>.Instance);
PredictionRequest Request() => new(
    new Dictionary<string, string> { ["consumer"] = $"c{random.Next(1, 2001)}", ["store"] = $"s{random.Next(1, 201)}" },
    new Dictionary<string, object?> { ["amount"] = random.NextDouble() * 500, ["hour_of_day"] = (double)random.Next(0, 24) },
    null);

await FixedRateAsync(rate, 2, _ => withMirror.PredictAsync("fraud", Request())); // warm-up
// Interleaved in one run (even requests without the mirror, odd ones with it), so GC, JIT and
// thread-pool noise fall on both alike.
var mixed = await FixedRateAsync(rate, seconds * 2, i => (i % 2 == 0 ? withoutMirror : withMirror).PredictAsync("fraud", Request()));
var a = Stats.Of([.. mixed.Latencies.Where((_, i) => i % 2 == 0)], 0, 0);
var b = Stats.Of([.. mixed.Latencies.Where((_, i) => i % 2 == 1)], 0, 0);
Report("PredictionService (in-memory features), all requests", mixed);
Report("  of which mirror off", a);
Report("  of which mirror on ", b);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  mirror cost on the request path: p50 {(b.P50 - a.P50) * 1000:F1} µs, p99 {(b.P99 - a.P99) * 1000:F1} µs"));

// The mirror step alone, timed directly: event built and queued (what the request pays).
var mirrorOnly = new List<double>(200_000);
var sample = Assert(await withMirror.PredictAsync("fraud", Request()));
var probe = new QueuedMirrorPublisher(queue);
for (var i = 0; i < 200_000; i++)
{
    var t = Stopwatch.GetTimestamp();
    probe.TryPublish(sample);
    mirrorOnly.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
}

Report("mirror enqueue alone", Stats.Of(mirrorOnly, 0, 0));

// 2. Through HTTP: the real handler app on Kestrel with the same in-memory stores.
var app = HandlerApp.Build([], builder =>
{
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    var monitoring = new InMemoryMonitoringStore();
    var outcomes = new InMemoryOutcomeStore();
    builder.Services.AddSingleton(new Stores(store, registry, registry, outcomes, new InMemoryModelEventLog(), monitoring, monitoring, outcomes, outcomes, new InMemoryDriftStore()));
    builder.Services.AddSingleton<IBatchSink<MirrorEvent>>(new DiscardingSink<MirrorEvent>());
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
});
await app.StartAsync();
using (var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) })
{
    await FixedRateAsync(rate, 2, async _ => (await client.PostAsJsonAsync("/api/predict/fraud", Body())).Dispose());
    Report("HTTP round trip to the handler (in-memory features)", await FixedRateAsync(rate, seconds, async _ =>
    {
        using var r = await client.PostAsJsonAsync("/api/predict/fraud", Body());
        r.EnsureSuccessStatusCode();
    }));
}

await app.StopAsync();
await queue.StopAsync(TimeSpan.FromSeconds(5));
await log.StopAsync(TimeSpan.FromSeconds(5));

int Option(string name, int fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

static MirrorEvent Assert(PredictOutcome outcome)
{
    var p = ((PredictOutcome.Scored)outcome).Predictions[0];
    return new MirrorEvent(p.PredictionId, p.Model, DateTimeOffset.UnixEpoch, null, new Dictionary<string, string>(), "k",
        new Dictionary<string, MirroredGroup>(), new Dictionary<string, object>(), [], p.Degraded, [new MirroredOutput(p.Version, p.Arm, p.Scores, p.Decision, true)], 0, 0);
}

static void Report(string name, Stats s) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{name,-55} n={s.Count,7}  p50 {s.P50 * 1000,8:F1} µs  p99 {s.P99 * 1000,8:F1} µs  max {s.Max * 1000,9:F1} µs  {(s.Seconds > 0 ? $"{s.Count / s.Seconds:N0} req/s (start lag p99 {s.LagP99 * 1000:F0} µs)" : "")}"));

// Open loop: request i is due at t0 + i/rate and issued then, whether or not earlier ones finished.
// Latency is the call's own time (from when it began); how late calls began (generator and thread-pool
// lag on a 2-core machine) is reported beside it, so a stall shows up instead of hiding.
static async Task<Stats> FixedRateAsync(int rate, int seconds, Func<int, Task> call)
{
    var total = rate * seconds;
    var latencies = new double[total];
    var lags = new double[total];
    var started = Stopwatch.GetTimestamp();
    var tasks = new List<Task>(total);
    for (var i = 0; i < total; i++)
    {
        var due = started + (long)(i * (double)Stopwatch.Frequency / rate);
        while (Stopwatch.GetTimestamp() < due)
        {
            if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 500)
            {
                await Task.Delay(1);
            }
            else
            {
                Thread.SpinWait(20);
            }
        }

        var index = i;
        tasks.Add(Task.Run(async () =>
        {
            var begun = Stopwatch.GetTimestamp();
            await call(index);
            latencies[index] = (Stopwatch.GetTimestamp() - begun) * 1000.0 / Stopwatch.Frequency;
            lags[index] = (begun - due) * 1000.0 / Stopwatch.Frequency;
        }));
    }

    await Task.WhenAll(tasks);
    var lag = lags.Order().ToArray();
    return Stats.Of(latencies, total, Stopwatch.GetElapsedTime(started).TotalSeconds) with { LagP99 = lag[(int)(lag.Length * 0.99)], Latencies = latencies };
}

// The demo as run.sh seeds it (the same ingest and registration code), into in-memory stores.
static async Task<(InMemoryFeatureStore, InMemoryModelRegistry)> DemoStoresAsync(string demo)
{
    var store = new InMemoryFeatureStore();
    var registry = new InMemoryModelRegistry();
    var code = await DemoCommand.SeedAsync(new DemoStores(store, store, registry, registry, new InMemoryModelEventLog()), new DirectoryInfo(demo), TextWriter.Null, Console.Error, CancellationToken.None);
    return code == 0 ? (store, registry) : throw new InvalidOperationException($"seeding the demo failed ({code})");
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Functions.sln not found");
}

internal sealed record Stats(int Count, double P50, double P99, double Max, double Seconds)
{
    public double LagP99 { get; init; }

    public double[] Latencies { get; init; } = [];

    public static Stats Of(IList<double> values, int count, double seconds)
    {
        var sorted = values.Order().ToArray();
        return new Stats(count == 0 ? sorted.Length : count, sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)], sorted[^1], seconds);
    }
}

internal sealed class NoMirror : IMirrorPublisher
{
    public bool TryPublish(MirrorEvent mirrorEvent) => true;
}
