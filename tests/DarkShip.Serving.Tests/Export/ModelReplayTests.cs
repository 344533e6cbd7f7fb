using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Export;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Replay;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Export;

/// <summary>Replay of the demo champion and challenger on a model log whose rows the champion scored.</summary>
public sealed class ModelReplayTests
{
    private const int Requests = 300;
    private static readonly DateTimeOffset Start = new(2026, 11, 10, 9, 30, 0, TimeSpan.Zero);
    private readonly LoadedModel champion = Load("fraud", "1");
    private readonly LoadedModel challenger = Load("fraud-challenger", "2");
    private readonly InMemoryOutcomeStore outcomes = new();
    private readonly List<LoggedRow> log = [];
    private readonly List<float[]> inputs = [];

    public ModelReplayTests()
    {
        var random = new Random(3);
        var labelled = new List<LabelledPrediction>();
        for (var i = 0; i < Requests; i++)
        {
            float[] input = [random.Next(1, 900), random.Next(24), random.Next(30), random.Next(20, 300), random.Next(2000), random.Next(2), (float)(random.NextDouble() * 0.05), random.Next(4)];
            var scores = new float[1];
            champion.Model.Predict(input, scores);
            var at = Start.AddSeconds(i * 30); // three hour partitions
            var id = PredictionId.New(new FixedClock(at));
            var features = champion.Plan.Features.Select((f, c) => KeyValuePair.Create(f.Name, input[c])).ToArray();
            log.Add(new LoggedRow(id + "~1", new PredictionLogEntry(id, "fraud", "1", "champion", true, at, null, new Dictionary<string, string>(), features, scores, null, [], 3)));
            log.Add(new LoggedRow(id + "~9", new PredictionLogEntry(id, "fraud", "9", "shadow", false, at, null, new Dictionary<string, string>(), features, [0.99f], null, [], 3))); // not a request of its own
            inputs.Add(input);
            if (i % 2 == 0)
            {
                labelled.Add(new LabelledPrediction(new LoggedPrediction(id, "fraud", "1", "champion", true, at, scores), random.Next(2), at.AddDays(3), null, null));
            }
        }

        outcomes.SaveLabelsAsync(labelled).GetAwaiter().GetResult();
    }

    [Fact]
    public async Task The_champion_replayed_against_itself_agrees_everywhere_and_ties_on_every_metric()
    {
        var report = await Replay(champion).RunAsync("fraud", Start, Start.AddHours(3));

        Assert.Equal(Requests, report.Requests);
        Assert.Equal(new Dictionary<string, long> { ["1"] = Requests }, report.ChampionVersions);
        Assert.Equal((Requests, Requests, 1.0, 0.0, 0.0), (report.Comparison.Samples, report.Comparison.Pairs, report.Comparison.Agreement, report.MeanDelta, report.MaxAbsoluteDelta));
        Assert.Equal(Requests / 2, report.Candidate!.Metrics.Count);
        Assert.Equal(report.Champion!.Metrics.LogLoss, report.Candidate.Metrics.LogLoss);
        Assert.Equal(0.0, report.Candidate.Paired!.Difference);
        Assert.Equal(champion.Plan.Features.Select(f => f.Name), report.FeaturesFromLog);
        Assert.Empty(report.FeaturesAsOf);
    }

    [Fact]
    public async Task A_challenger_is_compared_on_the_logged_inputs_as_the_shadow_path_compares_it()
    {
        var rows = new List<ReplayedRow>();
        var report = await Replay(challenger).RunAsync("fraud", Start, Start.AddHours(3), r => { rows.Add(r); return ValueTask.CompletedTask; });

        // Independently: the challenger scored on the very inputs the champion was served.
        var deltas = new List<double>();
        var agreements = 0;
        for (var i = 0; i < Requests; i++)
        {
            var mine = new float[1];
            challenger.Model.Predict(inputs[i], mine);
            var theirs = log[2 * i].Entry.Scores[0];
            Assert.Equal(mine[0], rows[i].Scores[0]);
            deltas.Add((double)mine[0] - theirs);
            agreements += mine[0] >= 0.5 == theirs >= 0.5 ? 1 : 0;
        }

        Assert.Equal(deltas.Average(), report.MeanDelta, 12);
        Assert.Equal(deltas.Max(Math.Abs), report.MaxAbsoluteDelta, 12);
        Assert.Equal((double)agreements / Requests, report.Comparison.Agreement, 12);
        Assert.NotEqual(0, report.MeanDelta);
        Assert.Equal("1", report.Candidate!.Paired!.ChampionVersion);
        Assert.Equal(report.Champion!.Metrics.LogLoss - report.Candidate.Metrics.LogLoss, report.Candidate.Paired.Difference, 9);
    }

    [Fact]
    public async Task A_range_with_no_traffic_replays_nothing()
    {
        var report = await Replay(challenger).RunAsync("fraud", Start.AddDays(1), Start.AddDays(2));

        Assert.Equal(0, report.Requests);
        Assert.Null(report.Candidate);
        Assert.True(double.IsNaN(report.MeanDelta));
    }

    private ModelReplay Replay(LoadedModel candidate) =>
        new(new TrainingSetExporter(new ListScanner(log), outcomes), new PointInTimeFeatures(new InMemoryFeatureStore(), new Served(champion.Manifest), candidate.Plan), candidate, new ModelScorer(TimeProvider.System, NullLogger<ModelScorer>.Instance));

    private static LoadedModel Load(string folder, string version)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Demo", folder);
        var manifest = ManifestReader.Parse(File.ReadAllBytes(Path.Combine(path, "manifest.json")));
        return new LoadedModel(new ModelVersion("fraud", version, ModelStage.Registered, 0, "", "", "", "", Start), manifest, XGBoostModelReader.Load(Path.Combine(path, "model.json")), new FeaturePlan(manifest));
    }

    private sealed class ListScanner(List<LoggedRow> rows) : IPredictionLogScanner
    {
        public IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, CancellationToken cancellationToken = default) =>
            rows.Where(r => r.Entry.Model == model && r.Entry.Timestamp >= hour && r.Entry.Timestamp < hour.AddHours(1) && (after is null || string.CompareOrdinal(r.RowKey, after) > 0) && (version is null || r.Entry.Version == version))
                .OrderBy(r => r.RowKey, StringComparer.Ordinal).ToAsyncEnumerable();
    }

    private sealed class Served(ModelManifest manifest) : IServedManifests
    {
        public ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default) => ValueTask.FromResult<ModelManifest?>(manifest);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
