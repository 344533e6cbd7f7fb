using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;

/// <summary>
/// The timers at fleet size (issue 21, point 4), against the storage account <c>AzureWebJobsStorage</c>
/// names (benchmarks/timers.sh: a private Azurite), seeded with the demo (its features and models), and
/// <c>models</c> more models registered from the demo's
/// XGBoost files, each with three live versions (champion, a shadow at 10 %, an experiment at 50 %),
/// each version's aggregates holding two hours of five-minute windows (random scorings: every version
/// drifts, so DriftMonitor writes alerts; the ladder rules ask for more samples than there are, so
/// PromoteModels evaluates every version and holds, as it does on most runs); then DriftMonitor and
/// PromoteModels, resolved from the handler's own service collection on those Table stores, are run
/// and timed (median and worst of five runs after one warm-up).
/// </summary>
internal static class FleetTimers
{
    public static async Task RunAsync(string demo, int models)
    {
        var settings = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var account = StorageAccount.From(settings);
        var (registry, artifacts, events) = await account.PrepareAsync(CancellationToken.None);
        var features = account.FeatureStore();
        if (await DemoCommand.SeedAsync(new DemoStores(features, features, registry, artifacts, events), new DirectoryInfo(demo), TextWriter.Null, Console.Error, CancellationToken.None) != 0)
        {
            throw new InvalidOperationException("the demo's features could not be seeded"); // the fleet's manifests read the demo's feature groups
        }

        var cli = new ModelsCli(registry, artifacts, events, account.Aggregates(), features, TimeProvider.System, TextWriter.Null, Console.Error);
        var actor = new LadderActor("bench@darkship", "fleet benchmark");
        var seeding = Stopwatch.StartNew();
        for (var m = 0; m < models; m++)
        {
            var name = $"fleet{m:D2}";
            var model = new FileInfo(Path.Combine(demo, "fraud", "model.json"));
            var challenger = new FileInfo(Path.Combine(demo, "fraud-challenger", "model.json"));
            Check(await cli.RegisterAsync(name, model, Manifest(demo, name, "fraud"), "1", actor, CancellationToken.None), name);
            Check(await cli.MoveAsync(new LadderCommand.Promote(name, "1"), actor, CancellationToken.None), name);
            Check(await cli.RegisterAsync(name, challenger, Manifest(demo, name, "fraud-challenger"), "2", actor, CancellationToken.None), name);
            Check(await cli.MoveAsync(new LadderCommand.Shadow(name, "2", 10), actor, CancellationToken.None), name);
            Check(await cli.RegisterAsync(name, challenger, Manifest(demo, name, "fraud-challenger"), "3", actor, CancellationToken.None), name);
            Check(await cli.MoveAsync(new LadderCommand.Shadow(name, "3", 100), actor, CancellationToken.None), name);
            Check(await cli.RulesAsync(name, ["minGuardrailSamples=100000", "minSamples=100000"], CancellationToken.None), name); // random windows drift: evaluate, don't roll back
            Check(await cli.MoveAsync(new LadderCommand.Experiment(name, "3", 50), actor, CancellationToken.None), name);
        }

        // The handler's own wiring on these stores: what the timer functions run.
        var app = HandlerApp.Build(["--MirrorHub__fullyQualifiedNamespace=127.0.0.1:9", "--Logging:LogLevel:Default=Error"]);
        var cache = app.Services.GetRequiredService<ModelCache>();
        await cache.RefreshAsync();
        var aggregates = account.Aggregates();
        var now = TimeProvider.System.GetUtcNow();
        var windows = 0;
        for (var m = 0; m < models; m++)
        {
            var lineup = cache.Find($"fleet{m:D2}") ?? throw new InvalidOperationException($"fleet{m:D2} did not load");
            foreach (var (loaded, arm) in new[] { (lineup.Champion!, PredictionService.ChampionArm), (lineup.Experiment!, PredictionService.ExperimentArm) }.Concat(lineup.Shadows.Select(s => (s, "shadow"))))
            {
                windows += await FillAsync(aggregates, loaded, arm, now, windows: 24, perWindow: 50);
            }
        }

        seeding.Stop();
        Console.WriteLine($"seeded {models} models × 3 live versions, {windows} five-minute windows, in {seeding.Elapsed.TotalSeconds:F0} s");
        var drift = app.Services.GetRequiredService<DriftMonitor>();
        var promoter = app.Services.GetRequiredService<ModelPromoter>();
        Console.WriteLine("timer           runs   median     worst    versions/decisions");
        await TimeAsync("DriftMonitor", async () => (await drift.RunAsync()).Count);
        await TimeAsync("PromoteModels", async () => (await promoter.RunAsync()).Count);
    }

    private static async Task TimeAsync(string name, Func<Task<int>> run)
    {
        await run(); // warm-up: JIT, the registry's first read
        var times = new List<double>();
        var count = 0;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            count = await run();
            times.Add(clock.Elapsed.TotalSeconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-15} {times.Count,4} {times[2],8:F2} s {times[^1],8:F2} s    {count}"));
    }

    /// <summary>Two hours of five-minute windows of demo-like scorings, counted as ShadowScore counts them.</summary>
    private static async Task<int> FillAsync(IAggregateStore aggregates, LoadedModel model, string arm, DateTimeOffset now, int windows, int perWindow)
    {
        var random = new Random(model.Version.Name.GetHashCode(StringComparison.Ordinal) ^ model.Version.Version.GetHashCode(StringComparison.Ordinal));
        var names = model.Manifest.Features.Select(f => f.Name).ToArray();
        var start = now.AddMinutes(-5 * windows);
        for (var w = 0; w < windows; w++)
        {
            var key = new AggregateKey(model.Version.Name, model.Version.Version, model.Version.ChangedAt, new DateTimeOffset(start.AddMinutes(5 * w).UtcTicks / TimeSpan.TicksPerMinute / 5 * 5 * TimeSpan.TicksPerMinute, TimeSpan.Zero));
            var observations = Enumerable.Range(0, perWindow).Select(i => new Observation(i, ScoringOutcome.Scored, 1, (float)random.NextDouble(),
                [.. names.Select(n => KeyValuePair.Create(n, (float)(random.NextDouble() * 100)))], Degraded: null)).ToList();
            await aggregates.UpdateAsync(key, _ =>
            {
                var window = new WindowAggregate(key, arm, model.Edges.Prediction);
                window.Apply("0", observations, model.Edges.Feature);
                return window;
            });
        }

        return windows;
    }

    private static FileInfo Manifest(string demo, string model, string folder)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(demo, folder, "manifest.json")))!.AsObject();
        manifest["name"] = model;
        manifest.Remove("version");
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), $"darkship-fleet-{model}-{folder}.json"));
        File.WriteAllText(file.FullName, manifest.ToJsonString());
        return file;
    }

    private static void Check(int code, string model)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"seeding {model} failed with exit code {code}");
        }
    }
}
