using System.Diagnostics;
using System.Globalization;
using System.Text;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Shadow;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// ShadowScore's own cost per instance (issue 21, point 3, first half): the demo's mirror events — made by
/// the live path from demo traffic — fed in batches of 100 to <see cref="ShadowScorer"/> with in-memory
/// stores, with the demo's XGBoost shadow alone and with the ML.NET one beside it, every shadow at 100 %.
/// Prints events/s and bytes allocated per event. Not yet: the invocation path over HTTP, Azurite, three
/// shadows, Table transactions per 1,000 events.
/// </summary>
internal static class ShadowBenchmark
{
    public static async Task RunAsync(InMemoryFeatureStore store, InMemoryModelRegistry registry, int events)
    {
        // Every demo shadow at 100 %, so each scores every event.
        var versions = (await registry.ReadAsync()).Of("fraud");
        var shadows = versions.Where(v => v.Stage == ModelStage.Shadow).ToList();
        if (!await registry.TryUpdateAsync([.. shadows.Select(v => v with { SharePercent = 100 })]))
        {
            throw new InvalidOperationException("could not set the shadows' share");
        }

        var options = new ServingOptions();
        var cache = new ModelCache(registry, registry, store, NullLogger<ModelCache>.Instance);
        await cache.RefreshAsync();
        var bodies = await MirrorBodiesAsync(cache, store, options, events);

        Console.WriteLine($"ShadowScore with in-memory stores: {events:N0} demo mirror events in batches of 100, shadows at 100 %");
        Console.WriteLine("shadows                          events/s   µs/event   bytes allocated/event");
        (string, Func<LoadedModel, bool>) one = ("XGBoost v2", m => m.Version.Version == "2"), two = ("XGBoost v2 + ML.NET v3", _ => true);
        foreach (var (label, keep) in new[] { one, two, one, two }) // in turns: neither order's JIT and GC state favours one
        {
            var lineup = cache.Find("fraud")!;
            var lineups = new FixedLineups(lineup with { Shadows = [.. lineup.Shadows.Where(keep)] });
            var monitoring = new InMemoryMonitoringStore();
            var scorer = new ShadowScorer(lineups, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance), store, new DiscardingSink<PredictionLogEntry>(),
                monitoring, monitoring, options, new ShadowOptions(), TimeProvider.System, NullLogger<ShadowScorer>.Instance);
            await FeedAsync(scorer, bodies); // warm-up, a whole pass: tiered JIT settles, caches fill
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            await FeedAsync(scorer, bodies);
            clock.Stop();
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-30} {bodies.Count / clock.Elapsed.TotalSeconds,10:N0} {clock.Elapsed.TotalMicroseconds / bodies.Count,10:F1} {bytes / (double)bodies.Count,23:N0}"));
        }
    }

    private static async Task FeedAsync(ShadowScorer scorer, List<MirroredMessage> bodies)
    {
        for (var i = 0; i < bodies.Count; i += 100)
        {
            await scorer.ScoreAsync("0", bodies.GetRange(i, Math.Min(100, bodies.Count - i)));
        }
    }

    /// <summary>Mirror events as the live path writes them, for random demo consumers and stores.</summary>
    private static async Task<List<MirroredMessage>> MirrorBodiesAsync(ModelCache cache, InMemoryFeatureStore store, ServingOptions options, int count)
    {
        var capture = new Capture();
        var reader = new FeatureReader(store, TimeProvider.System, options, NullLogger<FeatureReader>.Instance);
        var service = new PredictionService(cache, reader, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance), capture, new NoLog(), TimeProvider.System, options, NullLogger<PredictionService>.Instance);
        var random = new Random(7);
        for (var i = 0; i < count; i++)
        {
            await service.PredictAsync("fraud", new PredictionRequest(
                new Dictionary<string, string> { ["consumer"] = $"c{random.Next(1, 2001)}", ["store"] = $"s{random.Next(1, 201)}" },
                new Dictionary<string, object?> { ["amount"] = random.NextDouble() * 500, ["hour_of_day"] = (double)random.Next(0, 24) },
                null));
        }

        return [.. capture.Events.Select((e, i) => new MirroredMessage(i, Encoding.UTF8.GetString(MirrorEventJson.Serialize(e)), e.Timestamp))];
    }

    private sealed class Capture : IMirrorPublisher
    {
        public List<MirrorEvent> Events { get; } = [];

        public bool TryPublish(MirrorEvent mirrorEvent)
        {
            Events.Add(mirrorEvent);
            return true;
        }
    }

    private sealed class NoLog : IPredictionLog
    {
        public bool TryAppend(PredictionLogEntry entry) => true;
    }
}
