using System.Diagnostics;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;

/// <summary>
/// Fills the storage account named by <c>AzureWebJobsStorage</c> with a model log to export
/// (benchmarks/export.sh): <c>rows</c> predictions of model <c>bench</c> spread over 24 hours, each
/// logged for a champion and a shadow with 8 features, every other one labelled; and features the log
/// does not hold for <c>export --features</c> and <c>replay</c> to read as of each prediction, on the
/// demo's entity cardinality (2,000 consumers, 200 stores): groups <c>consumer</c> and <c>store</c> with
/// one snapshot per entity in effect all day (and one written after it, which must never leak in), and
/// groups <c>consumer50</c> and <c>store50</c> with 50 snapshots per entity across the day. Each
/// prediction names its consumer and store under both groups' names. The champion's predictions are also
/// written as the mirror hub's Event Hubs Capture files would hold them (container <c>mirror-capture</c>, path
/// <c>bench/mirror</c>, 4 partitions by consumer, 5-minute windows), for <c>export --source capture</c>.
/// </summary>
internal static class ExportSeed
{
    public static async Task RunAsync(int rows)
    {
        var account = StorageAccount.From(new ConfigurationBuilder().AddEnvironmentVariables().Build());
        await account.PrepareAsync(CancellationToken.None);
        var log = account.PredictionLog();
        var outcomes = account.Outcomes();
        var time = new ManualClock(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var random = new Random(9);
        var started = Stopwatch.StartNew();
        var store = account.FeatureStore();
        var day = time.GetUtcNow();
        foreach (var (group, prefix, count) in new[] { ("consumer", "c", Consumers), ("store", "s", Stores) })
        {
            await store.PrepareGroupAsync(new FeatureGroupSchema(group, new Dictionary<string, FeatureType> { ["ctx"] = FeatureType.Number }));
            await store.PrepareGroupAsync(new FeatureGroupSchema(group + "50", new Dictionary<string, FeatureType> { ["ctx"] = FeatureType.Number }));
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, ct) =>
            {
                var key = $"{prefix}{e}";
                await store.WriteEntityAsync(group, key,
                [
                    new FeatureSnapshot(key, day.AddDays(-1), new Dictionary<string, object> { ["ctx"] = (double)(e % 100) }, e),
                    new FeatureSnapshot(key, day.AddDays(2), new Dictionary<string, object> { ["ctx"] = -1.0 }, e),
                ], ct);
                await store.WriteEntityAsync(group + "50", key,
                    [.. Enumerable.Range(0, 50).Select(k => new FeatureSnapshot(key, day.AddHours(-1 + (k * 25.0 / 50)), new Dictionary<string, object> { ["ctx"] = (double)((e + k) % 100) }, e))], ct);
            });
        }

        var entries = new List<PredictionLogEntry>();
        var labels = new List<LabelledPrediction>();
        var capture = new CaptureWriter(account.Container(DarkShip.Storage.Capture.CapturePath.DefaultContainer));
        for (var i = 0; i < rows; i++)
        {
            var id = PredictionId.New(time);
            var features = Enumerable.Range(0, 8).Select(f => KeyValuePair.Create($"f{f}", (float)random.NextDouble() * 100)).ToArray();
            foreach (var (version, arm) in new[] { ("1", "champion"), ("2", "shadow") })
            {
                var entry = new PredictionLogEntry(id, "bench", version, arm, version == "1", time.GetUtcNow(), null, Entities(i),
                    features, [(float)random.NextDouble()], null, [], 2);
                entries.Add(entry);
                if (version == "1")
                {
                    await capture.AddAsync(i % Consumers % 4, new MirrorEvent(id, "bench", entry.Timestamp, null, entry.Entities, $"c{i % Consumers}",
                        new Dictionary<string, MirroredGroup>(), new Dictionary<string, object>(), features, [], [new MirroredOutput("1", arm, entry.Scores, null, true)], 1, 2));
                }

                if (i % 2 == 0)
                {
                    labels.Add(new LabelledPrediction(new LoggedPrediction(id, "bench", version, arm, version == "1", entry.Timestamp, entry.Scores), random.Next(2), entry.Timestamp.AddDays(5), null, null));
                }
            }

            time.Advance(TimeSpan.FromHours(24.0 / rows));
            if (entries.Count >= 2000)
            {
                await FlushAsync(log, outcomes, entries, labels);
            }
        }

        await FlushAsync(log, outcomes, entries, labels);
        await capture.FlushAsync();
        Console.WriteLine($"seeded {rows} predictions ({2 * rows} log rows, {rows / 2 * 2} labels) in {started.Elapsed.TotalSeconds:F1} s");
    }

    private const int Consumers = 2000;
    private const int Stores = 200;

    private static Dictionary<string, string> Entities(int i) => new()
    {
        ["consumer"] = $"c{i % Consumers}", ["store"] = $"s{i / 7 % Stores}",
        ["consumer50"] = $"c{i % Consumers}", ["store50"] = $"s{i / 7 % Stores}",
    };

    private static async Task FlushAsync(DarkShip.Storage.Adapters.TablePredictionLog log, DarkShip.Storage.Adapters.TableOutcomeStore outcomes, List<PredictionLogEntry> entries, List<LabelledPrediction> labels)
    {
        await log.WriteAsync(entries, CancellationToken.None);
        await outcomes.SaveLabelsAsync(labels);
        entries.Clear();
        labels.Clear();
    }

    /// <summary>Capture files of <c>bench/mirror</c>: one per partition and 5-minute window of enqueue time.</summary>
    private sealed class CaptureWriter(Azure.Storage.Blobs.BlobContainerClient container)
    {
        private static readonly DarkShip.Storage.Capture.CapturePath Path = new("bench", "mirror");
        private readonly Dictionary<int, (DateTimeOffset Window, List<DarkShip.Storage.Capture.CapturedEvent> Events, long Sequence)> open = [];

        public async Task AddAsync(int partition, MirrorEvent e)
        {
            var enqueued = e.Timestamp.AddMilliseconds(50); // the mirror sends shortly after the prediction
            var window = new DateTimeOffset(enqueued.UtcTicks - (enqueued.UtcTicks % TimeSpan.FromMinutes(5).Ticks), TimeSpan.Zero);
            if (open.TryGetValue(partition, out var current) && current.Window != window)
            {
                await WriteAsync(partition, current.Window, current.Events);
                open[partition] = current = (window, [], current.Sequence);
            }
            else if (!open.ContainsKey(partition))
            {
                await container.CreateIfNotExistsAsync();
                open[partition] = current = (window, [], 0);
            }

            current.Events.Add(new(current.Sequence, current.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), enqueued, MirrorEventJson.Serialize(e), e.PartitionKey));
            open[partition] = (current.Window, current.Events, current.Sequence + 1);
        }

        public async Task FlushAsync()
        {
            foreach (var (partition, (window, events, _)) in open)
            {
                await WriteAsync(partition, window, events);
            }

            open.Clear();
        }

        private async Task WriteAsync(int partition, DateTimeOffset window, List<DarkShip.Storage.Capture.CapturedEvent> events)
        {
            using var file = new MemoryStream();
            DarkShip.Storage.Capture.CaptureFile.Write(file, events);
            file.Position = 0;
            await container.GetBlobClient(Path.BlobName(partition.ToString(System.Globalization.CultureInfo.InvariantCulture), window)).UploadAsync(file, overwrite: true);
        }
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset current = now;

        public override DateTimeOffset GetUtcNow() => current;

        public void Advance(TimeSpan by) => current += by;
    }
}
