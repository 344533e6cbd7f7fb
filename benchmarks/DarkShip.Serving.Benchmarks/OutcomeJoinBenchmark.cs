using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Storage;
using DarkShip.Storage.Adapters;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// One POST of 1,000 outcomes, as <see cref="OutcomeService.RecordAsync"/> joins them, against the
/// account <c>AzureWebJobsStorage</c> names (benchmarks/outcomes.sh): a registry of <c>models</c> models,
/// 1,000 logged predictions of one of them (champion and shadow rows), then the outcomes, timed, with
/// the storage requests they cost counted by a pipeline policy.
/// </summary>
internal static class OutcomeJoinBenchmark
{
    public static async Task RunAsync(int models, int outcomes)
    {
        var counter = new CountingPolicy();
        var endpoints = StorageEndpoints.FromConnectionString(Environment.GetEnvironmentVariable("AzureWebJobsStorage")!);
        var clients = new StorageClients(endpoints, configure: options => options.AddPolicy(counter, HttpPipelinePosition.PerRetry));
        var suffix = Guid.NewGuid().ToString("N")[..8];
        Azure.Data.Tables.TableClient Table(string name) => clients.Table(name + suffix);
        var registry = new TableModelRegistry(Table("Models"));
        var log = new TablePredictionLog(Table("PredictionLog"));
        var store = new TableOutcomeStore(Table("Outcomes"), Table("Labels"));
        await registry.EnsureCreatedAsync();
        await log.EnsureCreatedAsync();
        await store.EnsureCreatedAsync();
        for (var m = 0; m < models; m++)
        {
            await registry.TryAddAsync(new ModelVersion($"model{m}", "1", ModelStage.Champion, 100, "a", "b", "c", "d", DateTimeOffset.UnixEpoch));
        }

        var time = new Clock(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var entries = new List<PredictionLogEntry>();
        for (var i = 0; i < outcomes; i++)
        {
            var id = PredictionId.New(time);
            foreach (var (version, arm) in new[] { ("1", "champion"), ("2", "shadow") })
            {
                entries.Add(new PredictionLogEntry(id, "model0", version, arm, version == "1", time.GetUtcNow(), null, new Dictionary<string, string> { ["consumer"] = $"c{i}" },
                    [KeyValuePair.Create("f0", (float)i)], [0.5f], null, [], 1));
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        foreach (var chunk in entries.Chunk(500))
        {
            await ((DarkShip.Serving.Batching.IBatchSink<PredictionLogEntry>)log).WriteAsync(chunk, CancellationToken.None);
        }

        var service = new OutcomeService(log, store, time, NullLogger<OutcomeService>.Instance);
        var posted = entries.Where(e => e.Arm == "champion").Select((e, i) => new Outcome(e.PredictionId, i % 2, e.Timestamp.AddMinutes(5))).ToList();
        var before = counter.Requests;
        var watch = Stopwatch.StartNew();
        var results = await service.RecordAsync(posted);
        watch.Stop();
        var joined = results.Count(r => r.Status == OutcomeStatus.Joined);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"POST of {outcomes} outcomes, {models} models in the registry: {watch.Elapsed.TotalMilliseconds:F0} ms, {counter.Requests - before} storage requests ({(counter.Requests - before) / (double)outcomes:F1} per outcome), {joined} joined"));
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private long requests;

        public long Requests => Interlocked.Read(ref requests);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref requests);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset current = now;

        public override DateTimeOffset GetUtcNow() => current;

        public void Advance(TimeSpan by) => current += by;
    }
}
