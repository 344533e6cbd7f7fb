using DarkShip.Serving.Predictions;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Outcomes;

/// <summary>What became of one posted outcome.</summary>
/// <param name="PredictionId">Its prediction id.</param>
/// <param name="Status">Joined, duplicate, updated or unmatched.</param>
/// <param name="Versions">The predictions it is joined to, as <c>model/version</c>.</param>
public sealed record OutcomeResult(string PredictionId, OutcomeStatus Status, IReadOnlyList<string> Versions);

/// <summary>
/// Joins outcomes to the model log. An outcome names only a prediction id; the log finds the
/// prediction's rows by that id alone (two reads, however many models there are), so every version
/// that scored the request (champion, experiment, shadows) gets the label. Each outcome is
/// kept in <c>Outcomes</c> whatever happens to it; joined predictions go to <c>LabelledPredictions</c>
/// keyed by (version, prediction id), so posting the same outcome twice changes nothing and a
/// corrected label replaces the old one. A late outcome lands in its prediction's window, because
/// metrics are windowed by prediction time. An unknown id is reported back and kept as unmatched;
/// JoinOutcomes joins outcomes of recent predictions again, which picks up model-log rows written
/// after the outcome arrived (the log is written in batches, shadows score later).
/// </summary>
public sealed partial class OutcomeService(
    IPredictionLogReader log,
    IOutcomeStore store,
    TimeProvider time,
    ILogger<OutcomeService> logger)
{
    /// <summary>How far back JoinOutcomes looks, by prediction time: the model log and the shadows write within seconds, so a few hours covers any lag.</summary>
    public static readonly TimeSpan RejoinLookback = TimeSpan.FromHours(6);

    /// <summary>How many outcomes are joined at once.</summary>
    public const int Parallelism = 8;

    /// <summary>Joins and keeps each outcome; results in the order given.</summary>
    public async Task<IReadOnlyList<OutcomeResult>> RecordAsync(IReadOnlyList<Outcome> outcomes, CancellationToken cancellationToken = default)
    {
        var receivedAt = time.GetUtcNow();
        var results = new OutcomeResult[outcomes.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, outcomes.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, ct) => results[i] = await RecordOneAsync(outcomes[i], receivedAt, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// JoinOutcomes: joins again every outcome whose prediction was made since <paramref name="since"/>
    /// (unmatched ones may match now; joined ones may gain a shadow's row), <see cref="Parallelism"/> at a
    /// time. Labels are written only where the set of logged versions changed, so a run over outcomes that
    /// are already joined reads and writes nothing else. Idempotent.
    /// </summary>
    public async Task<(int Examined, int Joined, int StillUnmatched)> RejoinAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        int examined = 0, joined = 0, unmatched = 0;
        await Parallel.ForEachAsync(
            store.ReadByPredictionTimeAsync(since, time.GetUtcNow().AddMinutes(1), cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (record, ct) =>
            {
                Interlocked.Increment(ref examined);
                var labelled = await LabelAsync(record.Outcome, ct).ConfigureAwait(false);
                var versions = VersionsOf(labelled);
                if (versions.Count == 0)
                {
                    Interlocked.Increment(ref unmatched);
                    return;
                }

                if (record.Status != OutcomeStatus.Joined || !versions.SequenceEqual(record.Versions, StringComparer.Ordinal))
                {
                    await store.SaveLabelsAsync(labelled, ct).ConfigureAwait(false);
                    await store.SaveAsync(record with { Status = OutcomeStatus.Joined, Versions = versions }, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref joined);
                }
            }).ConfigureAwait(false);
        return (examined, joined, unmatched);
    }

    private async Task<OutcomeResult> RecordOneAsync(Outcome outcome, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var previous = await store.FindAsync(outcome.PredictionId, cancellationToken).ConfigureAwait(false);
        var same = previous is not null && previous.Outcome.Label.Equals(outcome.Label) && previous.Outcome.ObservedAt == outcome.ObservedAt;
        if (same && previous!.Status == OutcomeStatus.Joined)
        {
            return new OutcomeResult(outcome.PredictionId, OutcomeStatus.Duplicate, previous.Versions);
        }

        var labelled = await LabelAsync(outcome, cancellationToken).ConfigureAwait(false);
        if (labelled.Count > 0)
        {
            await store.SaveLabelsAsync(labelled, cancellationToken).ConfigureAwait(false);
        }

        var versions = VersionsOf(labelled);
        var status = versions.Count > 0 ? OutcomeStatus.Joined : OutcomeStatus.Unmatched;
        await store.SaveAsync(new OutcomeRecord(outcome, previous?.ReceivedAt ?? receivedAt, status, versions), cancellationToken).ConfigureAwait(false);
        if (status == OutcomeStatus.Unmatched)
        {
            LogUnmatched(logger, outcome.PredictionId);
            return new OutcomeResult(outcome.PredictionId, OutcomeStatus.Unmatched, versions);
        }

        return new OutcomeResult(outcome.PredictionId, previous is null || same ? OutcomeStatus.Joined : OutcomeStatus.Updated, versions);
    }

    /// <summary>The labelled predictions for every logged version of the request (none for an unknown id); nothing is written.</summary>
    private async Task<IReadOnlyList<LabelledPrediction>> LabelAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        if (PredictionId.TimestampOf(outcome.PredictionId) is null)
        {
            return [];
        }

        var rows = await log.FindLoggedAsync(outcome.PredictionId, cancellationToken).ConfigureAwait(false);
        var champion = rows.FirstOrDefault(r => r.Arm == PredictionService.ChampionArm);
        return [.. rows.Select(r => new LabelledPrediction(
            r, outcome.Label, outcome.ObservedAt,
            champion is not null && champion.Version != r.Version ? champion.Version : null,
            champion is not null && champion.Version != r.Version ? champion.Scores : null))];
    }

    /// <summary>The joined versions as <c>model/version</c>, in order.</summary>
    private static IReadOnlyList<string> VersionsOf(IReadOnlyList<LabelledPrediction> labelled) =>
        [.. labelled.Select(l => l.Prediction.Model + "/" + l.Prediction.Version).Order(StringComparer.Ordinal)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Outcome for {PredictionId} matches no logged prediction (yet); kept as unmatched")]
    private static partial void LogUnmatched(ILogger logger, string predictionId);
}
