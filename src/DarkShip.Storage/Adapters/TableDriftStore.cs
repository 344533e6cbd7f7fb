using System.Globalization;
using System.Text.Json;
using DarkShip.Serving.Monitoring;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// Drift reports in the <c>Drift</c> table: every run's under PK = <c>{model}~{version}</c>, RK = inverted
/// UTC ticks (newest first), and the latest per version under PK = <c>~latest</c>, RK = <c>{model}~{version}</c>,
/// so "the latest report of every version of a model" is one range query whatever the history's length.
/// The report is JSON in <c>Data</c> (split over <c>Data1</c>… when long), its status in <c>Status</c>.
/// </summary>
public sealed class TableDriftStore(TableClient table) : IDriftStore
{
    /// <summary>The table's name.</summary>
    public const string TableName = "Drift";

    private const string LatestPartition = "~latest";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <inheritdoc />
    public async Task SaveAsync(DriftReport report, CancellationToken cancellationToken = default)
    {
        var key = report.Model + "~" + report.Version;
        var json = DriftReportJson.Write(report);
        var history = new TableEntity(key, (DateTimeOffset.MaxValue.UtcTicks - report.ComputedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture));
        var latest = new TableEntity(LatestPartition, key);
        foreach (var e in new[] { history, latest })
        {
            e["Status"] = report.Status.ToString();
            e["ComputedAt"] = report.ComputedAt.ToUniversalTime();
            LongText.Write(e, "Data", json);
        }

        await table.UpsertAsync(history, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await table.UpsertAsync(latest, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DriftReport>> LatestAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        var filter = version is not null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {LatestPartition} and RowKey eq {model + "~" + version}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {LatestPartition} and RowKey gt {model + "~"} and RowKey lt {model + "\u007f"}");
        var reports = new List<DriftReport>();
        try
        {
            await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                reports.Add(DriftReportJson.Read(LongText.Read(e, "Data")));
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // no table yet: no reports
        }

        return reports;
    }
}

/// <summary>A drift report as JSON (NaN written as null).</summary>
internal static class DriftReportJson
{
    public static string Write(DriftReport r)
    {
        return JsonText.Write(j =>
        {
            j.WriteStartObject();
            j.WriteString("model", r.Model);
            j.WriteString("version", r.Version);
            j.WriteString("stage", r.Stage);
            j.WriteString("computedAt", r.ComputedAt);
            j.WriteString("windowStart", r.WindowStart);
            j.WriteString("windowEnd", r.WindowEnd);
            j.WriteNumber("samples", r.Samples);
            j.WriteNumber("previousSamples", r.PreviousSamples);
            j.WriteStartArray("findings");
            foreach (var f in r.Findings)
            {
                j.WriteStartObject();
                j.WriteString("subject", f.Subject);
                j.WriteString("measure", f.Measure);
                j.WriteString("reference", f.Reference);
                j.WriteString("kind", f.Kind);
                j.WriteNumber("samples", f.Samples);
                j.WriteNumber("referenceSamples", f.ReferenceSamples);
                Number(j, "psi", f.Psi);
                Number(j, "jensenShannon", f.JensenShannon);
                Number(j, "ks", f.Ks);
                Number(j, "ksPValue", f.KsPValue);
                Number(j, "wasserstein", f.Wasserstein);
                Number(j, "chiSquare", f.ChiSquare);
                Number(j, "chiSquarePValue", f.ChiSquarePValue);
                Number(j, "value", f.Value);
                Number(j, "referenceValue", f.ReferenceValue);
                j.WriteString("status", f.Status.ToString());
                j.WriteString("reason", f.Reason);
                j.WriteEndObject();
            }

            j.WriteEndArray();
            j.WriteEndObject();
        });
    }

    public static DriftReport Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        var findings = r.GetProperty("findings").EnumerateArray().Select(f => new DriftFinding(
            f.GetProperty("subject").GetString()!,
            f.GetProperty("measure").GetString()!,
            f.GetProperty("reference").GetString()!,
            f.GetProperty("kind").GetString()!,
            f.GetProperty("samples").GetInt64(),
            f.GetProperty("referenceSamples").GetInt64(),
            Number(f, "psi"), Number(f, "jensenShannon"), Number(f, "ks"), Number(f, "ksPValue"), Number(f, "wasserstein"),
            Number(f, "chiSquare"), Number(f, "chiSquarePValue"), Number(f, "value"), Number(f, "referenceValue"),
            Enum.Parse<DriftStatus>(f.GetProperty("status").GetString()!),
            f.GetProperty("reason").GetString()!)).ToList();
        return new DriftReport(
            r.GetProperty("model").GetString()!, r.GetProperty("version").GetString()!, r.GetProperty("stage").GetString()!,
            r.GetProperty("computedAt").GetDateTimeOffset(), r.GetProperty("windowStart").GetDateTimeOffset(), r.GetProperty("windowEnd").GetDateTimeOffset(),
            r.GetProperty("samples").GetInt64(), r.GetProperty("previousSamples").GetInt64(), findings);
    }

    private static void Number(Utf8JsonWriter j, string name, double value)
    {
        if (double.IsFinite(value))
        {
            j.WriteNumber(name, value);
        }
        else
        {
            j.WriteNull(name);
        }
    }

    private static double Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
}
