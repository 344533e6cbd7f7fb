using System.Diagnostics;
using System.Globalization;
using System.Text;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Shadow;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// ShadowScore's own cost per instance (issue 21, point 3, first half): the demo's mirror events — made by
/// the live path from demo traffic — fed in batches of 100 to <see cref="ShadowScorer"/> with in-memory
/// stores, with the demo's XGBoost shadow alone, with the ML.NET one beside it, and with three (the
/// XGBoost challenger again as a third version), every shadow at 100 %. Prints events/s, bytes allocated
/// per event, and the Table requests per 1,000 events the Table adapters would send for what ShadowScore
/// wrote: model-log transactions (rows grouped by hour partition, 100 per transaction, as
/// TablePredictionLog sends them) and aggregate window updates (a read and a conditional write each, as
/// TableAggregateStore does them). The invocation path over HTTP against Azurite: <see cref="ShadowHttpBenchmark"/>.
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
        Console.WriteLine("shadows                          events/s   µs/event   bytes allocated/event   log transactions/1k   aggregate requests/1k");
        var demo = cache.Find("fraud")!;
        var xgboost = demo.Shadows.Single(m => m.Version.Version == "2");
        var third = xgboost with { Version = xgboost.Version with { Version = "4" } }; // the same model as a third version: its own rows and windows
        (string, LoadedModel[]) one = ("1: XGBoost v2", [xgboost]), two = ("2: XGBoost v2 + ML.NET v3", [.. demo.Shadows]), three = ("3: + XGBoost as v4", [.. demo.Shadows, third]);
        foreach (var (label, lineupShadows) in new[] { one, two, three, one, two, three }) // in turns: no order's JIT and GC state favours one
        {
            var lineups = new FixedLineups(demo with { Shadows = lineupShadows });
            var monitoring = new CountingAggregates(new InMemoryMonitoringStore());
            var log = new CountingLog();
            var scorer = new ShadowScorer(lineups, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance), store, log,
                monitoring, monitoring.Inner, options, new ShadowOptions(), TimeProvider.System, NullLogger<ShadowScorer>.Instance);
            await FeedAsync(scorer, bodies); // warm-up, a whole pass: tiered JIT settles, caches fill
            (log.Transactions, monitoring.Updates) = (0, 0);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            await FeedAsync(scorer, bodies);
            clock.Stop();
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            var perThousand = 1000.0 / bodies.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-30} {bodies.Count / clock.Elapsed.TotalSeconds,10:N0} {clock.Elapsed.TotalMicroseconds / bodies.Count,10:F1} {bytes / (double)bodies.Count,23:N0} {log.Transactions * perThousand,21:F1} {2 * monitoring.Updates * perThousand,23:F1}"));
        }
    }

    /// <summary>Counts the transactions TablePredictionLog would send for each batch: per hour partition, one per 100 rows.</summary>
    private sealed class CountingLog : IBatchSink<PredictionLogEntry>
    {
        public long Transactions { get; set; }

        public Task<BatchDelivery> WriteAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
        {
            Transactions += batch.GroupBy(e => DarkShip.Storage.Adapters.TablePredictionLog.PartitionKey(e.Model, PredictionId.TimestampOf(e.PredictionId) ?? e.Timestamp))
                .Sum(p => (p.Count() + 99) / 100);
            return Task.FromResult(BatchDelivery.All(batch.Count));
        }
    }

    /// <summary>Counts window updates (each one read and one conditional write against Table Storage).</summary>
    private sealed class CountingAggregates(InMemoryMonitoringStore inner) : IAggregateStore
    {
        public InMemoryMonitoringStore Inner { get; } = inner;

        public long Updates { get; set; }

        public Task UpdateAsync(AggregateKey key, Func<WindowAggregate?, WindowAggregate?> update, CancellationToken cancellationToken = default)
        {
            Updates++;
            return Inner.UpdateAsync(key, update, cancellationToken);
        }

        public Task<IReadOnlyList<WindowAggregate>> ReadAsync(string model, string version, DateTimeOffset? epoch, DateTimeOffset since, CancellationToken cancellationToken = default) =>
            Inner.ReadAsync(model, version, epoch, since, cancellationToken);
    }

    private static async Task FeedAsync(ShadowScorer scorer, List<MirroredMessage> bodies)
    {
        for (var i = 0; i < bodies.Count; i += 100)
        {
            await scorer.ScoreAsync("0", bodies.GetRange(i, Math.Min(100, bodies.Count - i)));
        }
    }

    /// <summary>Mirror events as the live path writes them, for random demo consumers and stores.</summary>
    internal static async Task<List<MirroredMessage>> MirrorBodiesAsync(ModelCache cache, InMemoryFeatureStore store, ServingOptions options, int count)
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
