using System.Globalization;
using System.Text.Json;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The model log in the <c>PredictionLog</c> table, one row per (prediction, model version):
/// PK = <c>{model}_{yyyyMMddHH}</c> (the UTC hour in the prediction id), RK = <c>{predictionId}_{version}</c>.
/// A prediction's rows are found from its id alone (the id carries its time); a time range is
/// exported hour partition by hour partition, in id (= time) order; rows of one hour and model
/// commit together in transactions of up to 100. Writes are upserts, so a retried batch is harmless.
/// Each served prediction also gets an index row, PK = <c>~{yyyyMMddHH}</c>, RK = its id, naming its
/// model, so an outcome (which carries only the id) finds its rows in two reads whatever the number of
/// models; the index row is written before the prediction's rows, so a row that exists is findable.
/// </summary>
public sealed class TablePredictionLog(TableClient table) : IBatchSink<PredictionLogEntry>, IPredictionLogReader, IPredictionLogScanner
{
    /// <summary>The table's name.</summary>
    public const string TableName = "PredictionLog";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <summary>The partition holding <paramref name="model"/>'s predictions of the hour of <paramref name="at"/>.</summary>
    public static string PartitionKey(string model, DateTimeOffset at) =>
        model + "_" + at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The partition of the index rows (prediction id → model) of the hour of <paramref name="at"/>.</summary>
    public static string IndexPartitionKey(DateTimeOffset at) => "~" + at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The row of one version's prediction.</summary>
    public static string RowKey(string predictionId, string version) => predictionId + "_" + version;

    /// <inheritdoc />
    /// <remarks>
    /// One transaction per hour partition and 100 rows, each sent once (the client's retry policy is the
    /// only one). A row the service refuses (too large, a bad value) is taken out of its transaction and
    /// the rest is sent again, so one bad row never costs the others; once storage fails, the rows not
    /// yet written count as failed.
    /// </remarks>
    public async Task<BatchDelivery> WriteAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
    {
        var index = await WriteIndexAsync(batch, cancellationToken).ConfigureAwait(false);
        if (index.Failed > 0)
        {
            return new BatchDelivery(0, 0, batch.Count, index.Error);
        }

        var delivery = new BatchDelivery(0, 0, 0, null);
        foreach (var partition in batch.GroupBy(e => PartitionKey(e.Model, PredictionId.TimestampOf(e.PredictionId) ?? e.Timestamp)))
        {
            var rows = partition.DistinctBy(e => RowKey(e.PredictionId, e.Version)).ToList();
            delivery = delivery with { Delivered = delivery.Delivered + partition.Count() - rows.Count }; // the same row twice in one batch: written once
            foreach (var chunk in rows.Chunk(TableOutcomes.MaxTransactionActions))
            {
                delivery = delivery.Add(await WriteTransactionAsync([.. chunk.Select(e => ToEntity(partition.Key, e))], cancellationToken).ConfigureAwait(false));
                if (delivery.Failed > 0)
                {
                    return delivery with { Failed = batch.Count - delivery.Delivered - delivery.Rejected }; // the rest is not tried
                }
            }
        }

        return delivery;
    }

    /// <summary>The index rows of the batch's served predictions (one per prediction: shadows and the unserved arm add none).</summary>
    private async Task<BatchDelivery> WriteIndexAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
    {
        var delivery = new BatchDelivery(0, 0, 0, null);
        var served = batch.Where(e => e.Served).DistinctBy(e => e.PredictionId)
            .GroupBy(e => IndexPartitionKey(PredictionId.TimestampOf(e.PredictionId) ?? e.Timestamp));
        foreach (var hour in served)
        {
            foreach (var chunk in hour.Chunk(TableOutcomes.MaxTransactionActions))
            {
                delivery = delivery.Add(await WriteTransactionAsync([.. chunk.Select(e => new TableEntity(hour.Key, e.PredictionId) { ["Model"] = e.Model })], cancellationToken).ConfigureAwait(false));
                if (delivery.Failed > 0)
                {
                    return delivery;
                }
            }
        }

        return delivery;
    }

    private async Task<BatchDelivery> WriteTransactionAsync(List<TableEntity> rows, CancellationToken cancellationToken)
    {
        var rejected = 0;
        Exception? error = null;
        while (rows.Count > 0)
        {
            TableTransactionResult result;
            try
            {
                result = await table.TrySubmitAsync([.. rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r))], cancellationToken).ConfigureAwait(false);
            }
            catch (Azure.RequestFailedException e) when (e.Status is 400 or 413)
            {
                // The request as a whole was refused (too large): halve it until the rows at fault stand alone.
                if (rows.Count == 1)
                {
                    return new BatchDelivery(0, rejected + 1, 0, error ?? e);
                }

                var half = rows.Count / 2;
                var first = await WriteTransactionAsync(rows[..half], cancellationToken).ConfigureAwait(false);
                var second = first.Failed > 0 ? new BatchDelivery(0, 0, rows.Count - half, null) : await WriteTransactionAsync(rows[half..], cancellationToken).ConfigureAwait(false);
                return first.Add(second).Add(new BatchDelivery(0, rejected, 0, error ?? e));
            }
            catch (Exception e) when (e is Azure.RequestFailedException or TimeoutException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return new BatchDelivery(0, rejected, rows.Count, error ?? e);
            }

            if (result.Succeeded)
            {
                return new BatchDelivery(rows.Count, rejected, 0, error);
            }

            var refused = new Azure.RequestFailedException(result.FailedStatus, $"PredictionLog refused a row: {result.FailedStatus} {result.ErrorCode} {result.ErrorMessage}");
            if (result.FailedStatus is >= 400 and < 500 and not 408 and not 429 && result.FailedActionIndex is { } index && index < rows.Count)
            {
                rows.RemoveAt(index); // that row is at fault: the others go again without it
                rejected++;
                error ??= refused;
                continue;
            }

            return new BatchDelivery(0, rejected, rows.Count, error ?? refused);
        }

        return new BatchDelivery(0, rejected, 0, error);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LoggedPrediction>> FindLoggedAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        if (PredictionId.TimestampOf(predictionId) is not { } at)
        {
            return [];
        }

        string model;
        try
        {
            if (await table.GetOrNullAsync(IndexPartitionKey(at), predictionId, ["Model"], cancellationToken).ConfigureAwait(false) is not { } index
                || index.Get<string>("Model") is not { Length: > 0 } named)
            {
                return []; // not logged (yet)
            }

            model = named;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return []; // no model log yet
        }

        // Every version's row of one prediction: one partition, one row-key range ("_" < "`").
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey(model, at)} and RowKey ge {predictionId + "_"} and RowKey lt {predictionId + "`"}");
        var found = new List<LoggedPrediction>();
        try
        {
            await foreach (var e in table.QueryAsync<TableEntity>(filter, select: ["Version", "Arm", "Served", "PredictedAt", "Scores", "Score"], cancellationToken: cancellationToken).ConfigureAwait(false))
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
    public async IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var partition = PartitionKey(model, hour);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {after ?? ""}");
        if (version is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Version eq {version}");
        }

        await foreach (var row in table.QueryIfExistsAsync(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
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
