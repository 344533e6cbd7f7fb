using DarkShip.Serving.Mirror;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Storage.IntegrationTests.Adapters;

/// <summary>The model log read by id, the outcome tables, the drift reports and fallback counts in aggregates, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class OutcomeStoresTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 9, 59, 59, TimeSpan.Zero);

    private Azure.Data.Tables.TableClient NewTable() => azurite.Table("t" + Guid.NewGuid().ToString("N")[..20]);

    [Fact]
    public async Task The_model_log_finds_every_version_of_one_prediction_and_no_other()
    {
        var log = new TablePredictionLog(NewTable());
        await log.EnsureCreatedAsync();
        var time = new FakeTimeProvider(At);
        var id = PredictionId.New(time);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var neighbour = PredictionId.New(time);
        await log.WriteAsync([Entry(id, "1", "champion", true, [0.25f]), Entry(id, "2", "shadow", false, [0.75f]), Entry(neighbour, "1", "champion", true, [0.5f])], CancellationToken.None);

        var found = await log.FindLoggedAsync(id);

        Assert.Equal(["1", "2"], found.Select(f => f.Version).Order());
        Assert.Equal([0.25f], found.Single(f => f.Version == "1").Scores);
        Assert.True(found.Single(f => f.Version == "1").Served);
        Assert.Equal("shadow", found.Single(f => f.Version == "2").Arm);
        Assert.Equal(At, found[0].PredictedAt);
        Assert.Equal(["1"], (await log.FindLoggedAsync(neighbour)).Select(f => f.Version));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Empty(await log.FindLoggedAsync(PredictionId.New(time))); // never logged
    }

    [Fact]
    public async Task The_model_log_finds_a_prediction_by_id_alone_among_many_models_with_two_reads()
    {
        var log = new TablePredictionLog(NewTable());
        await log.EnsureCreatedAsync();
        var time = new FakeTimeProvider(At);
        var ids = new List<string>();
        foreach (var model in new[] { "fraud", "eta", "rank" })
        {
            var id = PredictionId.New(time);
            ids.Add(id);
            await log.WriteAsync([Entry(id, "1", "champion", true, [0.25f]) with { Model = model }, Entry(id, "2", "shadow", false, [0.75f]) with { Model = model }], CancellationToken.None);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var found = await Task.WhenAll(ids.Select(id => log.FindLoggedAsync(id)));

        Assert.Equal(["fraud", "eta", "rank"], found.Select(f => f.Select(r => r.Model).Distinct().Single()));
        Assert.All(found, f => Assert.Equal(2, f.Count));
    }

    [Fact]
    public async Task Outcomes_and_labels_round_trip_replace_on_repost_and_read_by_prediction_time()
    {
        var store = new TableOutcomeStore(NewTable(), NewTable());
        await store.EnsureCreatedAsync();
        var time = new FakeTimeProvider(At);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(PredictionId.New(time));
            time.Advance(TimeSpan.FromSeconds(1)); // the second and third fall in the next hour's partition
        }

        foreach (var id in ids)
        {
            await store.SaveAsync(new OutcomeRecord(new Outcome(id, 1, At.AddDays(9)), At.AddDays(10), OutcomeStatus.Unmatched, []));
        }

        await store.SaveAsync(new OutcomeRecord(new Outcome(ids[0], 0, At.AddDays(11)), At.AddDays(10), OutcomeStatus.Joined, ["fraud/1", "fraud/2"]));
        var labels = ids.Select((id, i) => new LabelledPrediction(
            new LoggedPrediction(id, "fraud", "2", "shadow", false, At.AddSeconds(i), [0.1f * (i + 1)]), i % 2, At.AddDays(9), "1", [0.5f])).ToList();
        await store.SaveLabelsAsync(labels);
        await store.SaveLabelsAsync(labels); // a re-join: the same rows

        var first = (await store.FindAsync(ids[0]))!;
        Assert.Equal((0.0, OutcomeStatus.Joined, At.AddDays(11)), (first.Outcome.Label, first.Status, first.Outcome.ObservedAt));
        Assert.Equal(["fraud/1", "fraud/2"], first.Versions);
        Assert.Null(await store.FindAsync(PredictionId.New(time)));

        var recent = await ToListAsync(store.ReadByPredictionTimeAsync(At.AddSeconds(0.5), At.AddHours(1)));
        Assert.Equal(ids[1..], recent.Select(r => r.Outcome.PredictionId));

        var read = await ToListAsync(store.ReadLabelsAsync("fraud", "2", At, At.AddSeconds(2)));
        Assert.Equal(ids[..2], read.Select(l => l.Prediction.PredictionId));
        Assert.Equal([0.2f], read[1].Prediction.Scores);
        Assert.Equal((1.0, "1", 0.5f), (read[1].Label, read[1].ChampionVersion, read[1].ChampionScores![0]));
        Assert.Equal(At.AddSeconds(1), read[1].Prediction.PredictedAt);
        Assert.Empty(await ToListAsync(store.ReadLabelsAsync("fraud", "1", At, At.AddHours(1))));
    }

    [Fact]
    public async Task Drift_reports_keep_the_latest_per_version_and_round_trip_their_findings()
    {
        var store = new TableDriftStore(NewTable());
        await store.EnsureCreatedAsync();
        DriftReport Report(string version, DateTimeOffset at, DriftStatus status) => new("fraud", version, "Shadow", at, at.AddHours(-1), at, 1200, 1100,
        [
            new DriftFinding("amount", "distribution", "baseline", "numeric", 1200, 40000, 0.31, 0.2, 0.12, 1e-9, 0.4, double.NaN, double.NaN, double.NaN, double.NaN, status, "PSI 0.31, Wasserstein 0.4"),
            new DriftFinding("amount", "missingRate", "previous", "rate", 1200, 1100, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0.25, 0.01, status, "25 % against 1 %"),
        ]);
        await store.SaveAsync(Report("1", At, DriftStatus.Ok));
        await store.SaveAsync(Report("1", At.AddMinutes(15), DriftStatus.Alert));
        await store.SaveAsync(Report("2", At, DriftStatus.Warn));
        var other = new DriftReport("fraudulent", "1", "Champion", At, At, At, 0, 0, []);
        await store.SaveAsync(other);

        var latest = await store.LatestAsync("fraud");

        Assert.Equal(["1", "2"], latest.Select(r => r.Version));
        var one = latest[0];
        Assert.Equal((At.AddMinutes(15), DriftStatus.Alert), (one.ComputedAt, one.Status));
        Assert.Equal(0.31, one.Findings[0].Psi);
        Assert.True(double.IsNaN(one.Findings[0].ChiSquare));
        Assert.Equal(0.25, one.Findings[1].Value);
        Assert.Equal("PSI 0.31, Wasserstein 0.4", one.Findings[0].Reason);
        Assert.Equal(DriftStatus.Warn, Assert.Single(await store.LatestAsync("fraud", "2")).Status);
        Assert.Empty(await new TableDriftStore(NewTable()).LatestAsync("fraud")); // no table yet
    }

    [Fact]
    public async Task Aggregates_keep_fallback_counts()
    {
        var store = new TableAggregateStore(NewTable());
        await store.EnsureCreatedAsync();
        var key = new AggregateKey("fraud", "1", At, At);
        await store.UpdateAsync(key, _ =>
        {
            var w = new WindowAggregate(key, "champion", Histogram.ProbabilityEdges);
            w.Apply("0", [
                new Observation(1, ScoringOutcome.Scored, 1, 0.2f, [KeyValuePair.Create("amount", 10f)], Degraded: ["consumer:notFound", "amount:stale"]),
                new Observation(2, ScoringOutcome.Scored, 1, 0.3f, [KeyValuePair.Create("amount", 12f)], Degraded: ["consumer:notFound"]),
            ], _ => Histogram.DecadeEdges);
            return w;
        });

        var read = Assert.Single(await store.ReadAsync("fraud", "1", At, At));

        Assert.Equal(2, read.Inputs);
        Assert.Equal(2, read.Degraded["consumer:notFound"]);
        Assert.Equal(1, read.Degraded["amount:stale"]);
    }

    private static PredictionLogEntry Entry(string id, string version, string arm, bool served, float[] scores) =>
        new(id, "fraud", version, arm, served, At, null, new Dictionary<string, string> { ["consumer"] = "c1" }, [KeyValuePair.Create("amount", 1f)], scores, null, [], 2);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
