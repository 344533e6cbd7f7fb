using System.Globalization;
using System.Runtime.CompilerServices;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// Outcomes in two tables.
/// <list type="bullet">
/// <item><c>Outcomes</c>, every outcome as posted, joined or not: PK = the prediction's UTC hour
/// (<c>yyyyMMddHH</c>, from the id), RK = prediction id. A posted outcome is found by its id alone, and
/// JoinOutcomes reads the outcomes of recent predictions hour by hour.</item>
/// <item><c>LabelledPredictions</c>, each version's prediction with its label: PK = <c>{model}~{version}</c>,
/// RK = prediction id, so a version's labelled predictions over any time span are one range query
/// (ids sort by time). The row carries the champion's scores on the same request for paired comparisons.</item>
/// </list>
/// Writes are upserts keyed by prediction id: posting again replaces, never duplicates.
/// </summary>
public sealed class TableOutcomeStore(TableClient outcomes, TableClient labels) : IOutcomeStore
{
    /// <summary>The outcomes table's name.</summary>
    public const string OutcomesTable = "Outcomes";

    /// <summary>The labelled predictions table's name.</summary>
    public const string LabelsTable = "LabelledPredictions";

    /// <summary>Creates both tables if needed.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        await outcomes.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false);
        await labels.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>Outcomes</c> partition of a prediction id.</summary>
    public static string HourOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task<OutcomeRecord?> FindAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        if (PredictionId.TimestampOf(predictionId) is not { } at)
        {
            return null;
        }

        var e = await outcomes.GetOrNullAsync(HourOf(at), predictionId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return e is null ? null : ToRecord(e);
    }

    /// <inheritdoc />
    public async Task SaveAsync(OutcomeRecord record, CancellationToken cancellationToken = default)
    {
        var at = PredictionId.TimestampOf(record.Outcome.PredictionId)
            ?? throw new ArgumentException($"'{record.Outcome.PredictionId}' is not a prediction id.", nameof(record));
        var entity = new TableEntity(HourOf(at), record.Outcome.PredictionId)
        {
            ["Label"] = record.Outcome.Label,
            ["ObservedAt"] = record.Outcome.ObservedAt.ToUniversalTime(),
            ["ReceivedAt"] = record.ReceivedAt.ToUniversalTime(),
            ["Status"] = record.Status.ToString(),
            ["Versions"] = string.Join(",", record.Versions),
        };
        await outcomes.UpsertAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SaveLabelsAsync(IReadOnlyList<LabelledPrediction> labelled, CancellationToken cancellationToken = default)
    {
        foreach (var partition in labelled.GroupBy(l => Partition(l.Prediction.Model, l.Prediction.Version)))
        {
            foreach (var chunk in partition.DistinctBy(l => l.Prediction.PredictionId).Chunk(TableOutcomes.MaxTransactionActions))
            {
                var actions = chunk.Select(l => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(partition.Key, l))).ToList();
                var result = await labels.TrySubmitAsync(actions, cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    throw new InvalidOperationException($"LabelledPredictions transaction failed at action {result.FailedActionIndex}: {result.FailedStatus} {result.ErrorCode} {result.ErrorMessage}");
                }
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<OutcomeRecord> ReadByPredictionTimeAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var hour = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.UtcDateTime.Hour), TimeSpan.Zero);
        for (; hour < to; hour = hour.AddHours(1))
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {HourOf(hour)} and RowKey ge {PredictionId.LowerBound(from)} and RowKey lt {PredictionId.LowerBound(to)}");
            await foreach (var e in outcomes.QueryIfExistsAsync(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                yield return ToRecord(e);
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LabelledPrediction> ReadLabelsAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(model, version)} and RowKey ge {PredictionId.LowerBound(from)} and RowKey lt {PredictionId.LowerBound(to)}");
        await foreach (var e in labels.QueryIfExistsAsync(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var prediction = new LoggedPrediction(e.RowKey, model, version, e.Get<string>("Arm") ?? "", e.Get<bool>("Served"), e.Get<DateTimeOffset>("PredictedAt"),
                TablePredictionLog.ReadScores(e.Get<string>("Scores"), null));
            yield return new LabelledPrediction(prediction, e.Number("Label"), e.Get<DateTimeOffset>("ObservedAt"), e.Get<string>("ChampionVersion"),
                e.Get<string>("ChampionScores") is { } champion ? TablePredictionLog.ReadScores(champion, null) : null);
        }
    }

    private static string Partition(string model, string version) => model + "~" + version;

    private static TableEntity ToEntity(string partition, LabelledPrediction l)
    {
        var entity = new TableEntity(partition, l.Prediction.PredictionId)
        {
            ["Arm"] = l.Prediction.Arm,
            ["Served"] = l.Prediction.Served,
            ["PredictedAt"] = l.Prediction.PredictedAt.ToUniversalTime(),
            ["Scores"] = TablePredictionLog.WriteScores(l.Prediction.Scores),
            ["Label"] = l.Label,
            ["ObservedAt"] = l.ObservedAt.ToUniversalTime(),
        };
        if (l.ChampionVersion is not null && l.ChampionScores is not null)
        {
            entity["ChampionVersion"] = l.ChampionVersion;
            entity["ChampionScores"] = TablePredictionLog.WriteScores(l.ChampionScores);
        }

        return entity;
    }

    private static OutcomeRecord ToRecord(TableEntity e) => new(
        new Outcome(e.RowKey, e.Number("Label"), e.Get<DateTimeOffset>("ObservedAt")),
        e.Get<DateTimeOffset>("ReceivedAt"),
        Enum.TryParse<OutcomeStatus>(e.Get<string>("Status"), out var status) ? status : OutcomeStatus.Unmatched,
        (e.Get<string>("Versions") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));
}
