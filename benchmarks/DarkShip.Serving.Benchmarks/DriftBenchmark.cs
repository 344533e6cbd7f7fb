using System.Diagnostics;
using System.Globalization;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// DriftMonitor's cost against the number of logged predictions and of windows (issue 7's cost goal):
/// the demo champion's aggregates are filled with N scorings (spread over the two drift windows), then
/// a DriftMonitor run is timed. The run reads and compares aggregates only, so its time should stay
/// flat as N grows a hundredfold, and grow with the number of windows it sums.
/// </summary>
internal static class DriftBenchmark
{
    public static async Task RunAsync(InMemoryFeatureStore store, InMemoryModelRegistry registry, IReadOnlyList<int> sizes)
    {
        var cache = new ModelCache(registry, registry, store, NullLogger<ModelCache>.Instance);
        await cache.RefreshAsync();
        var champion = cache.Find("fraud")!.Champion!;
        Console.WriteLine($"DriftMonitor over the demo champion ({champion.Manifest.Features.Count} features + the prediction, baseline bins from its manifest; the demo's shadow has no traffic and costs one empty read)");
        Console.WriteLine("predictions   window   5-min windows read   fill (ShadowScore's counting)   DriftMonitor run (median of 21)   per prediction");
        foreach (var windowMinutes in new[] { 60, 24 * 60 })
        {
            foreach (var n in sizes)
            {
                var time = new ManualTime(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
                var aggregates = new InMemoryMonitoringStore();
                var fill = Stopwatch.StartNew();
                var windows = 2 * windowMinutes / 5;
                await FillAsync(aggregates, champion, time.GetUtcNow(), windows, n);
                fill.Stop();
                var monitor = new DriftMonitor(registry, cache, aggregates, new InMemoryDriftStore(), new DriftOptions { WindowMinutes = windowMinutes }, new ServingOptions(), time, NullLogger<DriftMonitor>.Instance);
                for (var i = 0; i < 30; i++)
                {
                    await monitor.RunAsync(); // warm-up: tiered JIT settles, so every row is timed alike
                }

                var runs = new List<double>();
                for (var i = 0; i < 21; i++)
                {
                    var t = Stopwatch.GetTimestamp();
                    var reports = await monitor.RunAsync();
                    runs.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    if (reports.SingleOrDefault(r => r.Version == champion.Version.Version) is not { Samples: > 0 })
                    {
                        throw new InvalidOperationException("the run saw no traffic");
                    }
                }

                var median = runs.Order().ElementAt(runs.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{n,11:N0}   {windowMinutes / 60,4} h   {windows,18}   {fill.Elapsed.TotalSeconds,26:F1} s   {median,27:F2} ms   {median * 1e6 / n,11:F1} ns"));
            }
        }
    }

    /// <summary>N scorings with demo-like inputs, counted into 5-minute windows as ShadowScore counts them.</summary>
    private static async Task FillAsync(InMemoryMonitoringStore aggregates, LoadedModel model, DateTimeOffset now, int windows, int n)
    {
        var random = new Random(3);
        var names = model.Manifest.Features.Select(f => f.Name).ToArray();
        var perWindow = n / windows;
        var start = now.AddMinutes(-5 * windows);
        for (var w = 0; w < windows; w++)
        {
            var key = new AggregateKey(model.Version.Name, model.Version.Version, model.Version.ChangedAt, start.AddMinutes(5 * w));
            var observations = new List<Observation>(perWindow);
            for (var i = 0; i < perWindow; i++)
            {
                var values = new KeyValuePair<string, float>[names.Length];
                for (var f = 0; f < names.Length; f++)
                {
                    values[f] = KeyValuePair.Create(names[f], (float)(random.NextDouble() * 100));
                }

                observations.Add(new Observation(i, ScoringOutcome.Scored, 1, (float)random.NextDouble(), values, Degraded: i % 10 == 0 ? ["consumer:notFound"] : null));
            }

            await aggregates.UpdateAsync(key, _ =>
            {
                var window = new WindowAggregate(key, "champion", model.Edges.Prediction);
                window.Apply("0", observations, model.Edges.Feature);
                return window;
            });
        }
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
