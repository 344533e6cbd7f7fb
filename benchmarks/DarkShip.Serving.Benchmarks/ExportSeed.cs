using System.Diagnostics;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;

/// <summary>
/// Fills the storage account named by <c>AzureWebJobsStorage</c> with a model log to export
/// (benchmarks/export.sh): <c>rows</c> predictions of model <c>bench</c> spread over 24 hours, each
/// logged for a champion and a shadow with 8 features, every other one labelled; and a feature the log
/// does not hold (<c>consumer.ctx</c>, one snapshot per consumer before the day and one after it) for
/// <c>export --features</c> and <c>replay</c> to read as of each prediction.
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
        await store.PrepareGroupAsync(new FeatureGroupSchema("consumer", new Dictionary<string, FeatureType> { ["ctx"] = FeatureType.Number }));
        for (var c = 0; c < 2000; c++)
        {
            await store.WriteEntityAsync("consumer", $"c{c}",
            [
                new FeatureSnapshot($"c{c}", time.GetUtcNow().AddDays(-1), new Dictionary<string, object> { ["ctx"] = (double)(c % 100) }, c),
                new FeatureSnapshot($"c{c}", time.GetUtcNow().AddDays(2), new Dictionary<string, object> { ["ctx"] = -1.0 }, c),
            ]);
        }

        var entries = new List<PredictionLogEntry>();
        var labels = new List<LabelledPrediction>();
        for (var i = 0; i < rows; i++)
        {
            var id = PredictionId.New(time);
            var features = Enumerable.Range(0, 8).Select(f => KeyValuePair.Create($"f{f}", (float)random.NextDouble() * 100)).ToArray();
            foreach (var (version, arm) in new[] { ("1", "champion"), ("2", "shadow") })
            {
                var entry = new PredictionLogEntry(id, "bench", version, arm, version == "1", time.GetUtcNow(), null, new Dictionary<string, string> { ["consumer"] = $"c{i % 2000}" },
                    features, [(float)random.NextDouble()], null, [], 2);
                entries.Add(entry);
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
        Console.WriteLine($"seeded {rows} predictions ({2 * rows} log rows, {rows / 2 * 2} labels) in {started.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task FlushAsync(DarkShip.Storage.Adapters.TablePredictionLog log, DarkShip.Storage.Adapters.TableOutcomeStore outcomes, List<PredictionLogEntry> entries, List<LabelledPrediction> labels)
    {
        await log.WriteAsync(entries, CancellationToken.None);
        await outcomes.SaveLabelsAsync(labels);
        entries.Clear();
        labels.Clear();
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset current = now;

        public override DateTimeOffset GetUtcNow() => current;

        public void Advance(TimeSpan by) => current += by;
    }
}
