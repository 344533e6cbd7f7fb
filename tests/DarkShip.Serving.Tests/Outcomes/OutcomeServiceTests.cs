using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Outcomes;

/// <summary>Outcomes joined to real predictions of the demo model: champion, experiment and a shadow's logged row.</summary>
public sealed class OutcomeServiceTests
{
    private readonly ServingHarness harness = new();
    private readonly InMemoryOutcomeStore store = new();
    private readonly OutcomeService outcomes;

    public OutcomeServiceTests() =>
        outcomes = new OutcomeService(store, store, harness.Time, NullLogger<OutcomeService>.Instance);

    [Fact]
    public async Task An_outcome_is_joined_to_every_version_that_scored_the_request_with_the_champions_scores_beside()
    {
        // A request in the experiment's arm: scored by the experiment (served) and the champion.
        Prediction prediction;
        var i = 0;
        do
        {
            prediction = await PredictAndLogAsync($"c{i++}");
        }
        while (prediction.Arm != PredictionService.ExperimentArm);

        await LogShadowAsync(prediction, "3", 0.9f);

        var result = Assert.Single(await outcomes.RecordAsync([new Outcome(prediction.PredictionId, 1, harness.Time.GetUtcNow().AddDays(20))]));

        Assert.Equal(OutcomeStatus.Joined, result.Status);
        Assert.Equal(["fraud/1", "fraud/2", "fraud/3"], result.Versions);
        var shadow = Assert.Single(await Labels("3"));
        Assert.Equal(1, shadow.Label);
        Assert.Equal("1", shadow.ChampionVersion);
        var champion = Assert.Single(await Labels("1"));
        Assert.Equal(champion.Prediction.Scores, shadow.ChampionScores);
        Assert.Null(champion.ChampionVersion); // the champion is not paired with itself
        Assert.Equal(prediction.Scores, (await Labels(prediction.Version)).Single().Prediction.Scores);
    }

    [Fact]
    public async Task Posting_the_same_outcome_again_is_a_duplicate_and_a_corrected_label_replaces_the_old()
    {
        var prediction = await PredictAndLogAsync("c2");
        var observed = harness.Time.GetUtcNow().AddDays(3);
        await outcomes.RecordAsync([new Outcome(prediction.PredictionId, 1, observed)]);

        var again = Assert.Single(await outcomes.RecordAsync([new Outcome(prediction.PredictionId, 1, observed)]));
        var corrected = Assert.Single(await outcomes.RecordAsync([new Outcome(prediction.PredictionId, 0, observed.AddDays(1))]));

        Assert.Equal(OutcomeStatus.Duplicate, again.Status);
        Assert.Equal(OutcomeStatus.Updated, corrected.Status);
        var label = Assert.Single(await Labels("1"));
        Assert.Equal(0, label.Label);
        Assert.Equal(observed.AddDays(1), label.ObservedAt);
    }

    [Fact]
    public async Task An_unknown_id_is_reported_and_kept_then_joined_once_its_prediction_is_logged()
    {
        var prediction = await PredictAsync("c3"); // scored, but its log row is still in the queue
        var result = Assert.Single(await outcomes.RecordAsync([new Outcome(prediction.PredictionId, 1, harness.Time.GetUtcNow())]));
        Assert.Equal(OutcomeStatus.Unmatched, result.Status);
        Assert.Equal(OutcomeStatus.Unmatched, (await store.FindAsync(prediction.PredictionId))!.Status);

        await FlushLogAsync();
        var (examined, joined, stillUnmatched) = await outcomes.RejoinAsync(harness.Time.GetUtcNow().AddHours(-6));

        Assert.Equal((1, 1, 0), (examined, joined, stillUnmatched));
        var record = (await store.FindAsync(prediction.PredictionId))!;
        Assert.Equal(OutcomeStatus.Joined, record.Status);
        Assert.Contains("fraud/1", record.Versions);
        Assert.Single(await Labels("1"));
    }

    [Fact]
    public async Task A_rejoin_writes_only_what_changed_a_shadows_late_row_and_not_outcomes_already_joined()
    {
        var settled = await PredictAndLogAsync("c6");
        var shadowed = await PredictAndLogAsync("c7");
        await outcomes.RecordAsync([new Outcome(settled.PredictionId, 1, harness.Time.GetUtcNow()), new Outcome(shadowed.PredictionId, 0, harness.Time.GetUtcNow())]);
        var writes = store.LabelWrites;
        await LogShadowAsync(shadowed, "3", 0.2f); // the shadow scored after the outcome was joined

        var (examined, joined, stillUnmatched) = await outcomes.RejoinAsync(harness.Time.GetUtcNow().AddHours(-6));

        Assert.Equal((2, 1, 0), (examined, joined, stillUnmatched));
        Assert.Equal(writes + 1, store.LabelWrites); // the shadowed outcome's labels, not the settled one's again
        Assert.Contains("fraud/3", (await store.FindAsync(shadowed.PredictionId))!.Versions);
        Assert.Equal(0, Assert.Single(await Labels("3")).Label);

        Assert.Equal((2, 0, 0), await outcomes.RejoinAsync(harness.Time.GetUtcNow().AddHours(-6)));
        Assert.Equal(writes + 1, store.LabelWrites);
    }

    [Fact]
    public async Task A_late_outcome_lands_in_its_predictions_window()
    {
        var early = await PredictAndLogAsync("c4");
        harness.Time.Advance(TimeSpan.FromDays(2));
        var late = await PredictAndLogAsync("c5");
        harness.Time.Advance(TimeSpan.FromDays(30)); // the chargeback arrives a month on
        await outcomes.RecordAsync([new Outcome(early.PredictionId, 1, harness.Time.GetUtcNow()), new Outcome(late.PredictionId, 0, harness.Time.GetUtcNow())]);

        var evaluator = new ModelEvaluator(harness.Registry, harness.Registry, store);
        var windows = await evaluator.EvaluateAsync("fraud", ServingHarness.Start.AddDays(-1), harness.Time.GetUtcNow(), TimeSpan.FromDays(1));

        var champion = windows.Where(w => w.Version == "1" && w.WindowStart is not null).ToList();
        Assert.Equal([ServingHarness.Start.Date, ServingHarness.Start.Date.AddDays(2)], champion.Select(w => w.WindowStart!.Value.UtcDateTime));
        Assert.All(champion, w => Assert.Equal(1, w.Metrics.Count));
        Assert.Equal(2, windows.Single(w => w.Version == "1" && w.WindowStart is null).Metrics.Count);
    }

    [Fact]
    public async Task A_malformed_id_matches_nothing_and_is_kept_unmatched()
    {
        var result = Assert.Single(await outcomes.RecordAsync([new Outcome("01ARZ3NDEKTSV4RRFFQ69G5FAV", 1, harness.Time.GetUtcNow())]));
        Assert.Equal(OutcomeStatus.Unmatched, result.Status);
        Assert.Empty(result.Versions);
    }

    private async Task<Prediction> PredictAsync(string consumer)
    {
        if ((await harness.Registry.ReadIfChangedAsync(null))!.Versions.Count == 0)
        {
            harness.SeedEntities("c1");
            await harness.RegisterAsync("1", ModelStage.Champion);
            await harness.RegisterAsync("2", ModelStage.Experiment, share: 50);
            await harness.Cache.RefreshAsync();
        }

        var outcome = Assert.IsType<PredictOutcome.Scored>(await harness.Service.PredictAsync("fraud", ServingHarness.Request(consumer, "s9")));
        return outcome.Predictions[0];
    }

    private async Task<Prediction> PredictAndLogAsync(string consumer)
    {
        var prediction = await PredictAsync(consumer);
        await FlushLogAsync();
        return prediction;
    }

    private async Task FlushLogAsync()
    {
        List<PredictionLogEntry> entries;
        lock (harness.Log.Entries)
        {
            entries = [.. harness.Log.Entries];
            harness.Log.Entries.Clear();
        }

        await store.WriteAsync(entries, CancellationToken.None);
    }

    private Task LogShadowAsync(Prediction prediction, string version, float score) =>
        store.WriteAsync([new PredictionLogEntry(prediction.PredictionId, "fraud", version, "shadow", false, harness.Time.GetUtcNow(), null,
            new Dictionary<string, string>(), [], [score], null, [], 1)], CancellationToken.None);

    private async Task<List<LabelledPrediction>> Labels(string version)
    {
        var found = new List<LabelledPrediction>();
        await foreach (var l in store.ReadLabelsAsync("fraud", version, DateTimeOffset.MinValue, DateTimeOffset.MaxValue))
        {
            found.Add(l);
        }

        return found;
    }
}
