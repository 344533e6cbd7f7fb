using System.Globalization;
using System.Text.Json;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The model log in the <c>PredictionLog</c> table, one row per (prediction, model version):
/// PK = <c>{model}_{yyyyMMddHH}</c> (the UTC hour in the prediction id), RK = <c>{predictionId}_{version}</c>.
/// A prediction's rows are found from its id alone (the id carries its time); a time range is
/// exported hour partition by hour partition, in id (= time) order; rows of one hour and model
/// commit together in transactions of up to 100. Writes are upserts, so a retried batch is harmless.
/// </summary>
public sealed class TablePredictionLog(TableClient table) : IBatchSink<PredictionLogEntry>, IPredictionLogReader, IPredictionLogScanner
{
    /// <summary>The table's name.</summary>
    public const string TableName = "PredictionLog";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>The partition holding <paramref name="model"/>'s predictions of the hour of <paramref name="at"/>.</summary>
    public static string PartitionKey(string model, DateTimeOffset at) =>
        model + "_" + at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The row of one version's prediction.</summary>
    public static string RowKey(string predictionId, string version) => predictionId + "_" + version;

    /// <inheritdoc />
    public async Task WriteAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
    {
        foreach (var partition in batch.GroupBy(e => PartitionKey(e.Model, PredictionId.TimestampOf(e.PredictionId) ?? e.Timestamp)))
        {
            var rows = partition.DistinctBy(e => RowKey(e.PredictionId, e.Version)).ToList();
            foreach (var chunk in rows.Chunk(TableClient.MaxTransactionActions))
            {
                var actions = chunk.Select(e => TableTransactionAction.Upsert(ToEntity(partition.Key, e), TableUpdateMode.Replace)).ToList();
                var result = await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    throw new InvalidOperationException($"PredictionLog transaction failed at action {result.FailedActionIndex}: {result.FailedStatus} {result.ErrorCode} {result.ErrorMessage}");
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LoggedPrediction>> FindAsync(string model, string predictionId, CancellationToken cancellationToken = default)
    {
        if (PredictionId.TimestampOf(predictionId) is not { } at)
        {
            return [];
        }

        // Every version's row of one prediction: one partition, one row-key range ("_" < "`").
        var filter = ODataFilter.Create($"PartitionKey eq {PartitionKey(model, at)} and RowKey ge {predictionId + "_"} and RowKey lt {predictionId + "`"}");
        var found = new List<LoggedPrediction>();
        try
        {
            await foreach (var e in table.QueryAsync(filter, ["Version", "Arm", "Served", "PredictedAt", "Scores", "Score"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                found.Add(new LoggedPrediction(predictionId, model, e.Get<string>("Version") ?? "", e.Get<string>("Arm") ?? "", e.Get<bool>("Served"),
                    e.Get<DateTimeOffset>("PredictedAt"), ReadScores(e.Get<string>("Scores"), e["Score"])));
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // no model log yet
        }

        return found;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var partition = PartitionKey(model, hour);
        var filter = after is null
            ? ODataFilter.Create($"PartitionKey eq {partition}")
            : ODataFilter.Create($"PartitionKey eq {partition} and RowKey gt {after}");
        await foreach (var row in table.QueryIfExistsAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            yield return new LoggedRow(row.RowKey, ToEntry(model, row));
        }
    }

    private static PredictionLogEntry ToEntry(string model, TableEntity e)
    {
        var entities = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.Get<string>("Entities") is { } entitiesJson)
        {
            using var doc = JsonDocument.Parse(entitiesJson);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                entities[p.Name] = p.Value.GetString() ?? "";
            }
        }

        var features = new List<KeyValuePair<string, float>>();
        if (e.Get<string>("Features") is { } featuresJson)
        {
            using var doc = JsonDocument.Parse(featuresJson);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                features.Add(KeyValuePair.Create(p.Name, p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetSingle() : float.NaN));
            }
        }

        return new PredictionLogEntry(
            e.Get<string>("PredictionId") ?? "", model, e.Get<string>("Version") ?? "", e.Get<string>("Arm") ?? "", e.Get<bool>("Served"),
            e.Get<DateTimeOffset>("PredictedAt"), e.Get<string>("RequestId"), entities, features,
            ReadScores(e.Get<string>("Scores"), e["Score"]), e.Get<string>("Decision"),
            (e.Get<string>("Degraded") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            e["LatencyMs"] is double latency ? latency : 0);
    }

    /// <summary>A JSON array of scores, as written; the single <c>Score</c> when it is missing.</summary>
    internal static float[] ReadScores(string? json, object? single)
    {
        if (json is not null)
        {
            using var doc = JsonDocument.Parse(json);
            return [.. doc.RootElement.EnumerateArray().Select(v => v.GetSingle())];
        }

        return single is null ? [] : [Convert.ToSingle(single, CultureInfo.InvariantCulture)];
    }

    internal static string WriteScores(float[] scores)
    {
        var text = new System.Text.StringBuilder("[");
        for (var i = 0; i < scores.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(scores[i].ToString("R", CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    private static TableEntity ToEntity(string partitionKey, PredictionLogEntry e)
    {
        var entity = new TableEntity(partitionKey, RowKey(e.PredictionId, e.Version))
        {
            ["PredictionId"] = e.PredictionId,
            ["Model"] = e.Model,
            ["Version"] = e.Version,
            ["Arm"] = e.Arm,
            ["Served"] = e.Served,
            ["PredictedAt"] = e.Timestamp.ToUniversalTime(),
            ["Entities"] = JsonText.Write(w =>
            {
                w.WriteStartObject();
                foreach (var (k, v) in e.Entities)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }),
            ["Features"] = JsonText.Write(w => MirrorEventJson.WriteFeatures(w, e.Features)),
            ["Score"] = (double)e.Scores[0],
            ["Scores"] = WriteScores(e.Scores),
            ["Degraded"] = string.Join(",", e.Degraded),
            ["LatencyMs"] = Math.Round(e.LatencyMilliseconds, 3),
        };
        if (e.RequestId is not null)
        {
            entity["RequestId"] = e.RequestId;
        }

        if (e.Decision is not null)
        {
            entity["Decision"] = e.Decision;
        }

        return entity;
    }
}
