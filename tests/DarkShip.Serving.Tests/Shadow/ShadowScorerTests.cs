using System.Text;
using DarkShip.Scoring;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Shadow;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Shadow;

public class ShadowScorerTests
{
    private static readonly string ChallengerFolder = Path.Combine(AppContext.BaseDirectory, "Demo", "fraud-challenger");

    private readonly ServingHarness harness = new();
    private readonly RecordingSink log = new();
    private readonly InMemoryMonitoringStore monitoring = new();
    private readonly ShadowOptions options = new();

    private ShadowScorer Scorer(IModelLineups? lineups = null, IFeatureStore? features = null) =>
        new(lineups ?? harness.Cache, harness.Scorer, features ?? harness.Store, log, monitoring, monitoring, harness.Options, options, harness.Time, NullLogger<ShadowScorer>.Instance);

    /// <summary>Champion 1 (the demo model) and the demo challenger as version 2 in the shadow at <paramref name="share"/>.</summary>
    private async Task LineupAsync(double share)
    {
        harness.SeedEntities(); // the groups' schemas, which loading checks manifests against
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Shadow, share,
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(ChallengerFolder, "manifest.json")))!.AsObject(),
            File.ReadAllBytes(Path.Combine(ChallengerFolder, "model.json")));
        await harness.Cache.RefreshAsync();
    }

    /// <summary>Live predictions for consumers c1..cN; their mirror events as the hub would deliver them (sequence 100, 101, …).</summary>
    private async Task<List<MirroredMessage>> TrafficAsync(int count)
    {
        for (var i = 1; i <= count; i++)
        {
            harness.SeedEntities($"c{i}", $"s{i % 7}");
            var outcome = await harness.Service.PredictAsync("fraud", ServingHarness.Request($"c{i}", $"s{i % 7}", amount: 20 * i, hour: i % 24));
            Assert.IsType<PredictOutcome.Scored>(outcome);
            harness.Time.Advance(TimeSpan.FromMilliseconds(10));
        }

        return [.. harness.Mirror.Events.Select((e, i) => new MirroredMessage(100 + i, Encoding.UTF8.GetString(MirrorEventJson.Serialize(e)), e.Timestamp))];
    }

    private async Task<WindowAggregate> WindowAsync(string version) =>
        Assert.Single(await monitoring.ReadAsync("fraud", version, null, DateTimeOffset.MinValue));

    [Fact]
    public async Task FullShare_ScoresEveryEvent_AsXGBoostWould_LogsIt_AndPairsItWithTheChampion()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(40);

        var result = await Scorer().ScoreAsync("0", batch);

        Assert.Equal((40, 40, 0, 0), (result.Events, result.ShadowScored, result.ShadowFailed, result.DeadLettered));
        Assert.All(log.Entries, e => Assert.Equal(("2", "shadow", false), (e.Version, e.Arm, e.Served)));
        var challenger = XGBoostModelReader.Load(Path.Combine(ChallengerFolder, "model.json"));
        var agreements = 0;
        foreach (var (entry, mirrored) in log.Entries.Zip(harness.Mirror.Events))
        {
            Assert.Equal(mirrored.PredictionId, entry.PredictionId);
            Assert.Equal(mirrored.Features, entry.Features); // same manifest, same rows: the same input the champion scored
            var expected = new float[1];
            challenger.Predict([.. entry.Features.Select(f => f.Value)], expected);
            Assert.Equal(expected[0], entry.Scores[0]);
            agreements += entry.Scores[0] >= 0.5 == mirrored.Outputs[0].Scores[0] >= 0.5 ? 1 : 0;
        }

        var shadow = await WindowAsync("2");
        Assert.Equal((40L, 40L, 40L, (long)agreements), (shadow.Count, shadow.Scored, shadow.Pairs, shadow.Agreements));
        Assert.Equal(40, shadow.Features["amount"].Total);
        var champion = await WindowAsync("1");
        Assert.Equal(("champion", 40L, 0L), (champion.Arm, champion.Scored, champion.Pairs));
    }

    [Fact]
    public async Task SampledShare_ScoresExactlyTheEntitiesHashedIntoIt()
    {
        await LineupAsync(30);
        var batch = await TrafficAsync(60);

        await Scorer().ScoreAsync("0", batch);

        var expected = harness.Mirror.Events
            .Where(e => TrafficSplit.IsIn(TrafficSplit.Bucket(harness.Options.AssignmentSalt, TrafficSplit.ShadowPurpose, "fraud", e.PartitionKey), 30))
            .Select(e => e.PredictionId).ToList();
        Assert.InRange(expected.Count, 5, 55); // the sample is neither nothing nor everything
        Assert.Equal(expected, log.Entries.Select(e => e.PredictionId));
    }

    [Fact]
    public async Task ModelsThatThrowReturnNaNOrOverrunTheirBudget_AreCountedAgainstThemselves_AndTheOthersContinue()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(10);
        var lineup = harness.Cache.Find("fraud")!;
        var healthy = lineup.Shadows[0];
        LoadedModel Broken(string version, FaultyModel.Fault fault) =>
            healthy with { Version = healthy.Version with { Version = version }, Model = new FaultyModel(healthy.Model, fault, harness) };
        var lineups = new FixedLineups(lineup with
        {
            Shadows = [Broken("3", FaultyModel.Fault.Throw), Broken("4", FaultyModel.Fault.NaN), Broken("5", FaultyModel.Fault.Slow), healthy],
        });

        var result = await Scorer(lineups).ScoreAsync("0", batch);

        Assert.Equal((10, 30), (result.ShadowScored, result.ShadowFailed));
        Assert.All(log.Entries, e => Assert.Equal("2", e.Version));
        Assert.Equal((10L, 0L), ((await WindowAsync("3")).Errors, (await WindowAsync("3")).Scored));
        Assert.Equal((10L, 0L), ((await WindowAsync("4")).Errors, (await WindowAsync("4")).Scored));
        Assert.Equal((10L, 0L), ((await WindowAsync("5")).TimedOut, (await WindowAsync("5")).Scored));
        Assert.Equal((10L, 0L, 0L), ((await WindowAsync("2")).Scored, (await WindowAsync("2")).Errors, (await WindowAsync("2")).TimedOut));
        Assert.Equal(10L, (await WindowAsync("1")).Scored); // the champion's record is untouched
    }

    [Fact]
    public async Task FreshInstance_BeforeTheFirstRegistryRead_FailsTheBatch_SoTheHostDeliversItAgain()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(5);
        var fresh = new ServingHarness(options: new ServingOptions { ModelLoadWaitSeconds = 0 }); // same events, an instance whose cache has not loaded
        var scorer = new ShadowScorer(fresh.Cache, fresh.Scorer, harness.Store, log, monitoring, monitoring, fresh.Options, options, fresh.Time, NullLogger<ShadowScorer>.Instance);

        await Assert.ThrowsAsync<ModelsNotReadyException>(() => scorer.ScoreAsync("0", batch));

        Assert.Empty(log.Entries);
        Assert.Empty(await monitoring.ReadAsync("fraud", "2", null, DateTimeOffset.MinValue));
    }

    [Fact]
    public async Task AShadowThatNeverReturns_IsTimedOutAtItsBudget_NotCalledAgainWhileStuck_AndTheOthersScore()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(4);
        var lineup = harness.Cache.Find("fraud")!;
        var healthy = lineup.Shadows[0];
        using var release = new ManualResetEventSlim();
        var hung = new HangingModel(healthy.Model, release);
        var lineups = new FixedLineups(lineup with
        {
            Shadows = [healthy with { Version = healthy.Version with { Version = "3" }, Model = hung }, healthy],
        });

        var scoring = Scorer(lineups).ScoreAsync("0", batch);
        for (var i = 0; i < 2000 && !scoring.IsCompleted; i++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(10)); // the budget runs on the (fake) clock, whatever the model does
            await Task.Delay(1);
        }

        Assert.True(scoring.IsCompleted, "the batch waited for a model that never returns");
        var result = await scoring;
        Assert.Equal((4, 4), (result.ShadowScored, result.ShadowFailed));
        Assert.Equal((4L, 0L), ((await WindowAsync("3")).TimedOut, (await WindowAsync("3")).Scored));
        Assert.Equal(4L, (await WindowAsync("2")).Scored);
        Assert.Equal(1, hung.Calls); // stuck after the first call: not called again until it returns
        release.Set();
    }

    [Fact]
    public async Task UnreadableEvents_GoToTheDeadLettersWithTheirReason_AndTheBatchStillSucceeds()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(3);
        batch.Insert(1, new MirroredMessage(7, "{not json", null));
        batch.Insert(2, new MirroredMessage(8, """{"schema":99}""", null));

        var result = await Scorer().ScoreAsync("4", batch);

        Assert.Equal((5, 2, 3), (result.Events, result.DeadLettered, result.ShadowScored));
        Assert.Equal([7L, 8L], monitoring.DeadLetters.Select(d => d.SequenceNumber).Order());
        Assert.All(monitoring.DeadLetters, d => Assert.Equal((ShadowScorer.Source, "4"), (d.Source, d.Partition)));
        Assert.Equal("{not json", monitoring.DeadLetters.Single(d => d.SequenceNumber == 7).Body);
        Assert.Contains("schema 99 is not supported", monitoring.DeadLetters.Single(d => d.SequenceNumber == 8).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARedeliveredBatch_IsNotCountedTwice_ButNewEventsAfterItAre()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(8);

        await Scorer().ScoreAsync("0", batch[..5]);
        await Scorer().ScoreAsync("0", batch[..5]); // the host delivers the same events again
        await Scorer().ScoreAsync("0", batch[3..]); // overlapping: 3 and 4 again, then 5..7 new

        Assert.Equal((8L, 8L), ((await WindowAsync("2")).Count, (await WindowAsync("2")).Pairs));
        Assert.Equal(8L, (await WindowAsync("1")).Count);
        Assert.Equal(8, log.Entries.Select(e => e.PredictionId).Distinct().Count()); // rewritten rows are upserts of the same keys
    }

    [Fact]
    public async Task SamePositionsInAnotherPartition_AreDifferentEvents()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(4);

        await Scorer().ScoreAsync("0", batch[..2]);
        await Scorer().ScoreAsync("1", [.. batch[2..].Select((m, i) => m with { SequenceNumber = 100 + i })]);

        Assert.Equal(4L, (await WindowAsync("2")).Count);
    }

    [Fact]
    public async Task AGroupTheChampionDidNotRead_IsReadAsOfThePredictionsTime_NotAsItIsNow()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(1);
        var e = harness.Mirror.Events[0];
        var withoutStore = e with { Groups = e.Groups.Where(g => g.Key != "store").ToDictionary() };
        harness.Features.Put("store", "s1", e.Timestamp.AddMinutes(5), new Dictionary<string, object> { ["chargeback_rate_90d"] = 0.9, ["category"] = "travel" }); // written after the prediction

        await Scorer().ScoreAsync("0", [batch[0] with { Body = Encoding.UTF8.GetString(MirrorEventJson.Serialize(withoutStore)) }]);

        var entry = Assert.Single(log.Entries);
        Assert.Equal(0.02f, entry.Features.Single(f => f.Key == "store_chargeback_rate_90d").Value); // the seeded row, an hour before
    }

    [Fact]
    public async Task AnAsOfReadThatFails_SkipsTheRequestForThatModel_WithoutCountingItAgainstTheModel()
    {
        await LineupAsync(100);
        var batch = await TrafficAsync(2);
        var bodies = harness.Mirror.Events.Select(e => e with { Groups = new Dictionary<string, MirroredGroup>() })
            .Select((e, i) => batch[i] with { Body = Encoding.UTF8.GetString(MirrorEventJson.Serialize(e)) }).ToList();

        var result = await Scorer(features: new BrokenFeatureStore(harness.Features, hang: false)).ScoreAsync("0", bodies);

        var shadow = await WindowAsync("2");
        Assert.Equal((0, 0), (result.ShadowScored, result.ShadowFailed));
        Assert.Equal((2L, 0L, 0L), (shadow.FeaturesUnavailable, shadow.Errors, shadow.Attempts));
    }

    [Fact]
    public async Task AnExperimentThatFailedLive_IsCountedAsAnErrorAgainstIt()
    {
        harness.SeedEntities();
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.RegisterAsync("2", ModelStage.Experiment, 100);
        await harness.Cache.RefreshAsync();
        var batch = await TrafficAsync(2);
        var failed = harness.Mirror.Events[0] with
        {
            Outputs = [new MirroredOutput("2", PredictionService.ExperimentArm, [], null, false, "could not score"), harness.Mirror.Events[0].Outputs.Single(o => o.Arm == "champion") with { Served = true }],
        };

        await Scorer().ScoreAsync("0", [batch[0] with { Body = Encoding.UTF8.GetString(MirrorEventJson.Serialize(failed)) }, batch[1]]);

        var experiment = await WindowAsync("2");
        Assert.Equal((2L, 1L, 1L, 1L), (experiment.Count, experiment.Errors, experiment.Scored, experiment.Pairs));
    }

    private sealed class RecordingSink : IBatchSink<PredictionLogEntry>
    {
        public List<PredictionLogEntry> Entries { get; } = [];

        public Task<BatchDelivery> WriteAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
        {
            foreach (var e in batch)
            {
                Entries.RemoveAll(x => x.PredictionId == e.PredictionId && x.Version == e.Version);
                Entries.Add(e);
            }

            return Task.FromResult(BatchDelivery.All(batch.Count));
        }
    }

    /// <summary>A model whose Predict blocks until released.</summary>
    private sealed class HangingModel(IModel inner, ManualResetEventSlim release) : IModel
    {
        private int calls;

        public int Calls => Volatile.Read(ref calls);

        public int FeatureCount => inner.FeatureCount;

        public IReadOnlyList<string> FeatureNames => inner.FeatureNames;

        public int GetOutputCount(OutputKind kind) => inner.GetOutputCount(kind);

        public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed)
        {
            Interlocked.Increment(ref calls);
            release.Wait();
            inner.Predict(features, output, kind);
        }

        public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed) => throw new NotSupportedException();
    }

    /// <summary>A model that throws, answers NaN, or takes 200 ms of the fake clock per row.</summary>
    private sealed class FaultyModel(IModel inner, FaultyModel.Fault fault, ServingHarness harness) : IModel
    {
        public enum Fault
        {
            Throw,
            NaN,
            Slow,
        }

        public int FeatureCount => inner.FeatureCount;

        public IReadOnlyList<string> FeatureNames => inner.FeatureNames;

        public int GetOutputCount(OutputKind kind) => inner.GetOutputCount(kind);

        public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed)
        {
            switch (fault)
            {
                case Fault.Throw:
                    throw new InvalidOperationException("model bug");
                case Fault.NaN:
                    output.Fill(float.NaN);
                    return;
                default:
                    harness.Time.Advance(TimeSpan.FromMilliseconds(200));
                    inner.Predict(features, output, kind);
                    return;
            }
        }

        public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed) => throw new NotSupportedException();
    }
}
