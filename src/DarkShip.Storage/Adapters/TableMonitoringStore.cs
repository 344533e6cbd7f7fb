using System.Globalization;
using System.Text;
using System.Text.Json;
using DarkShip.Serving.Monitoring;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// Windowed aggregates in the <c>Aggregates</c> table: PK = <c>{model}~{version}</c>, RK =
/// <c>{epoch ticks}_{window start yyyyMMddHHmmss}_{hub partition}</c>, so one version's current stage epoch is one
/// key-range query. Each hub partition's consumer writes its own row of a window (a row without the partition
/// part is a window of all of them, as written before partitions had rows of their own); a read sums a window's
/// rows into one. The window itself is JSON (split over <c>Data</c>, <c>Data1</c>… to stay under the
/// 64 KiB property limit); its counts are also plain columns for a human with Storage Explorer.
/// Updates are read-modify-write with <c>If-Match</c>, retried on a conflict (a re-delivered batch racing
/// its first delivery), so no writer ever loses another's counts.
/// </summary>
public sealed class TableAggregateStore(TableClient table) : IAggregateStore
{
    /// <summary>The table's name.</summary>
    public const string TableName = "Aggregates";

    /// <summary>Read-modify-write rounds lost to concurrent writers (412) before giving up: a concurrency bound, not a fault retry (faults are retried by the transport alone and fail the batch).</summary>
    private const int MaxAttempts = 10;

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <summary>The partition of one version's windows.</summary>
    public static string PartitionKey(string model, string version) => model + "~" + version;

    /// <summary>The row of one window (of one hub partition, when given).</summary>
    public static string RowKey(DateTimeOffset epoch, DateTimeOffset windowStart, string partition = "")
    {
        var key = epoch.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "_" + windowStart.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)
            + (partition.Length == 0 ? "" : "_" + partition);
        TableKeys.Validate(key, nameof(partition)); // a partition id is the host's: checked, never trusted
        return key;
    }

    /// <inheritdoc />
    public async Task UpdateAsync(AggregateKey key, Func<WindowAggregate?, WindowAggregate?> update, CancellationToken cancellationToken = default)
    {
        var pk = PartitionKey(key.Model, key.Version);
        var rk = RowKey(key.Epoch, key.WindowStart, key.Partition);
        for (var attempt = 1; ; attempt++)
        {
            var stored = await table.GetOrNullAsync(pk, rk, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (update(stored is null ? null : AggregateJson.Read(key, Data(stored))) is not { } changed)
            {
                return;
            }

            var entity = ToEntity(pk, rk, changed);
            var result = stored is null
                ? await table.TryAddAsync(entity, cancellationToken).ConfigureAwait(false)
                : await table.TryUpdateAsync(entity, stored.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return;
            }

            if (result.Status == TableWriteStatus.NotFound && stored is null)
            {
                await table.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false); // the first window ever: the table is made on demand
            }

            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"Aggregate {pk}/{rk} kept changing under {MaxAttempts} attempts to update it.");
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WindowAggregate>> ReadAsync(string model, string version, DateTimeOffset? epoch, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var pk = PartitionKey(model, version);
        var filter = epoch is { } e
            ? TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {e.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "_"} and RowKey lt {e.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "`"}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {pk}");
        var windows = new List<WindowAggregate>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var key = ParseKey(model, version, row.RowKey);
                if (key.WindowStart >= since)
                {
                    windows.Add(AggregateJson.Read(key, Data(row)));
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // no table yet: no windows
        }

        return [.. windows.GroupBy(w => w.Key.AllPartitions()).Select(g => WindowAggregate.Combine([.. g])).OrderBy(w => w.Key.WindowStart)];
    }

    private static AggregateKey ParseKey(string model, string version, string rowKey)
    {
        var parts = rowKey.Split('_');
        var epoch = new DateTimeOffset(long.Parse(parts[0], CultureInfo.InvariantCulture), TimeSpan.Zero);
        var start = DateTimeOffset.ParseExact(parts[1], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return new AggregateKey(model, version, epoch, start, parts.Length > 2 ? string.Join('_', parts[2..]) : "");
    }

    private static string Data(TableEntity entity) => LongText.Read(entity, "Data");

    private static TableEntity ToEntity(string pk, string rk, WindowAggregate w)
    {
        var entity = new TableEntity(pk, rk)
        {
            ["Model"] = w.Key.Model,
            ["Version"] = w.Key.Version,
            ["Arm"] = w.Arm,
            ["Epoch"] = w.Key.Epoch,
            ["WindowStart"] = w.Key.WindowStart,
            ["Count"] = w.Count,
            ["Scored"] = w.Scored,
            ["Errors"] = w.Errors,
            ["TimedOut"] = w.TimedOut,
            ["Pairs"] = w.Pairs,
        };
        LongText.Write(entity, "Data", AggregateJson.Write(w));
        return entity;
    }
}

/// <summary>The JSON form of a window, as the <c>Aggregates</c> table keeps it.</summary>
public static class AggregateJson
{
    /// <summary>Writes <paramref name="w"/>.</summary>
    public static string Write(WindowAggregate w)
    {
        return JsonText.Write(j =>
        {
            j.WriteStartObject();
            j.WriteString("arm", w.Arm);
            j.WriteNumber("count", w.Count);
            j.WriteNumber("scored", w.Scored);
            j.WriteNumber("errors", w.Errors);
            j.WriteNumber("timedOut", w.TimedOut);
            j.WriteNumber("featuresUnavailable", w.FeaturesUnavailable);
            WriteHistogram(j, "latency", w.Latency);
            WriteHistogram(j, "prediction", w.Prediction);
            j.WriteStartObject("features");
            foreach (var (name, h) in w.Features)
            {
                WriteHistogram(j, name, h);
            }

            j.WriteEndObject();
            j.WriteNumber("inputs", w.Inputs);
            j.WriteStartObject("degraded");
            foreach (var (token, count) in w.Degraded)
            {
                j.WriteNumber(token, count);
            }

            j.WriteEndObject();
            j.WriteNumber("pairs", w.Pairs);
            j.WriteNumber("agreements", w.Agreements);
            WriteHistogram(j, "delta", w.Delta);
            WriteHistogram(j, "championPrediction", w.ChampionPrediction);
            j.WriteStartArray("rankSample");
            foreach (var p in w.RankSample)
            {
                j.WriteStartArray();
                j.WriteNumberValue(p.Key);
                j.WriteNumberValue(p.Champion);
                j.WriteNumberValue(p.Challenger);
                j.WriteEndArray();
            }

            j.WriteEndArray();
            j.WriteStartObject("watermarks");
            foreach (var (partition, seq) in w.Watermarks)
            {
                j.WriteNumber(partition, seq);
            }

            j.WriteEndObject();
            j.WriteEndObject();
        });
    }

    /// <summary>Reads a window written by <see cref="Write"/>.</summary>
    public static WindowAggregate Read(AggregateKey key, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        var w = new WindowAggregate(key, r.GetProperty("arm").GetString()!, [])
        {
            Count = r.GetProperty("count").GetInt64(),
            Scored = r.GetProperty("scored").GetInt64(),
            Errors = r.GetProperty("errors").GetInt64(),
            TimedOut = r.GetProperty("timedOut").GetInt64(),
            FeaturesUnavailable = r.GetProperty("featuresUnavailable").GetInt64(),
            Latency = ReadHistogram(r.GetProperty("latency")),
            Prediction = ReadHistogram(r.GetProperty("prediction")),
            Pairs = r.GetProperty("pairs").GetInt64(),
            Agreements = r.GetProperty("agreements").GetInt64(),
            Delta = ReadHistogram(r.GetProperty("delta")),
            ChampionPrediction = ReadHistogram(r.GetProperty("championPrediction")),
        };
        foreach (var f in r.GetProperty("features").EnumerateObject())
        {
            w.Features[f.Name] = ReadHistogram(f.Value);
        }

        // Windows written before fallbacks were counted have neither property.
        w.Inputs = r.TryGetProperty("inputs", out var inputs) ? inputs.GetInt64() : 0;
        if (r.TryGetProperty("degraded", out var degraded))
        {
            foreach (var d in degraded.EnumerateObject())
            {
                w.Degraded[d.Name] = d.Value.GetInt64();
            }
        }

        foreach (var p in r.GetProperty("rankSample").EnumerateArray())
        {
            w.RankSample.Add(new RankPair(p[0].GetUInt64(), p[1].GetSingle(), p[2].GetSingle()));
        }

        foreach (var p in r.GetProperty("watermarks").EnumerateObject())
        {
            w.Watermarks[p.Name] = p.Value.GetInt64();
        }

        return w;
    }

    private static void WriteHistogram(Utf8JsonWriter j, string name, Histogram h)
    {
        j.WriteStartObject(name);
        j.WriteStartArray("edges");
        foreach (var e in h.Edges)
        {
            j.WriteNumberValue(e);
        }

        j.WriteEndArray();
        j.WriteStartArray("counts");
        foreach (var c in h.Counts)
        {
            j.WriteNumberValue(c);
        }

        j.WriteEndArray();
        j.WriteNumber("missing", h.Missing);
        j.WriteEndObject();
    }

    private static Histogram ReadHistogram(JsonElement e) => new(
        [.. e.GetProperty("edges").EnumerateArray().Select(x => x.GetDouble())],
        [.. e.GetProperty("counts").EnumerateArray().Select(x => x.GetInt64())],
        e.GetProperty("missing").GetInt64());
}

/// <summary>
/// Dead letters in the <c>DeadLetters</c> table: PK = <c>{source}~{partition}</c> with '/' made '-',
/// RK = the sequence number (19 digits). A re-delivered event overwrites its own row.
/// </summary>
public sealed class TableDeadLetters(TableClient table) : IDeadLetters
{
    /// <summary>The table's name.</summary>
    public const string TableName = "DeadLetters";

    /// <summary>Most body kept (a row holds at most 1 MiB); a longer one is cut and marked <c>BodyTruncated</c>.</summary>
    private const int MaxKeptChars = 12 * LongText.ChunkChars;

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <inheritdoc />
    public async Task AddAsync(DeadLetter letter, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(letter.Source.Replace('/', '-') + "~" + letter.Partition, letter.SequenceNumber.ToString("D19", CultureInfo.InvariantCulture))
        {
            ["Source"] = letter.Source,
            ["Partition"] = letter.Partition,
            ["SequenceNumber"] = letter.SequenceNumber,
            ["EnqueuedTime"] = letter.EnqueuedTime?.ToUniversalTime(),
            ["Reason"] = letter.Reason.Length > LongText.ChunkChars ? letter.Reason[..LongText.ChunkChars] : letter.Reason,
            ["BodyLength"] = letter.Body.Length,
            ["BodyTruncated"] = letter.Body.Length > MaxKeptChars,
        };
        LongText.Write(entity, "Body", letter.Body.Length > MaxKeptChars ? letter.Body[..MaxKeptChars] : letter.Body);

        try
        {
            await table.UpsertAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            await table.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false);
            await table.UpsertAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Text longer than a Table property may hold (64 KiB, i.e. 32K UTF-16 characters), kept in
/// consecutive properties <c>{name}</c>, <c>{name}1</c>, <c>{name}2</c>….
/// </summary>
internal static class LongText
{
    /// <summary>Characters per property, safely under the limit.</summary>
    public const int ChunkChars = 30_000;

    public static void Write(TableEntity entity, string name, string text)
    {
        for (int i = 0, at = 0; at < text.Length; i++, at += ChunkChars)
        {
            entity[Part(name, i)] = text.Substring(at, Math.Min(ChunkChars, text.Length - at));
        }
    }

    public static string Read(TableEntity entity, string name)
    {
        var text = new StringBuilder(entity.Get<string>(name) ?? "");
        for (var i = 1; entity.Get<string>(Part(name, i)) is { } more; i++)
        {
            text.Append(more);
        }

        return text.ToString();
    }

    private static string Part(string name, int i) => i == 0 ? name : name + i.ToString(CultureInfo.InvariantCulture);
}
