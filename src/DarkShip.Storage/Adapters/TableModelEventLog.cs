using System.Globalization;
using System.Text.Json;
using DarkShip.Serving.Registry;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The audit in the <c>ModelEvents</c> table: PK = model name, RK = <c>{ticks}_{version}_{nonce}</c>
/// (UTC ticks, 19 digits), so a model's history reads in time order with one partition query.
/// Rows are only ever inserted.
/// </summary>
public sealed class TableModelEventLog(TableClient table) : IModelEventLog
{
    /// <summary>The table's name.</summary>
    public const string TableName = "ModelEvents";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <inheritdoc />
    public async Task AppendAsync(ModelEvent modelEvent, CancellationToken cancellationToken = default)
    {
        var rowKey = $"{modelEvent.At.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}_{modelEvent.Version}_{Guid.NewGuid().ToString("N")[..8]}";
        var entity = new TableEntity(modelEvent.Model, rowKey)
        {
            ["Version"] = modelEvent.Version,
            ["At"] = modelEvent.At.ToUniversalTime(),
            ["Actor"] = modelEvent.Actor,
            ["Action"] = modelEvent.Action,
            ["From"] = modelEvent.From?.ToString(),
            ["To"] = modelEvent.To.ToString(),
            ["FromShare"] = modelEvent.FromShare,
            ["ToShare"] = modelEvent.ToShare,
            ["Reason"] = modelEvent.Reason,
            ["Evidence"] = WriteEvidence(modelEvent.Evidence),
        };
        var result = await table.TryAddAsync(entity, cancellationToken).ConfigureAwait(false);
        if (result.Status == TableWriteStatus.NotFound)
        {
            await table.CreateIfMissingAsync(cancellationToken).ConfigureAwait(false); // the first event ever: the table is made on demand
            result = await table.TryAddAsync(entity, cancellationToken).ConfigureAwait(false);
        }

        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"The audit row {modelEvent.Model}/{rowKey} could not be added ({result.Status}).");
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ModelEvent>> ReadAsync(string model, CancellationToken cancellationToken = default)
    {
        var events = new List<ModelEvent>();
        try
        {
            await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {model}"), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                events.Add(new ModelEvent(
                    e.PartitionKey,
                    e.Get<string>("Version") ?? "",
                    e.Get<DateTimeOffset>("At"),
                    e.Get<string>("Actor") ?? "",
                    e.Get<string>("Action") ?? "",
                    Enum.TryParse<ModelStage>(e.Get<string>("From"), out var from) ? from : null,
                    Enum.TryParse<ModelStage>(e.Get<string>("To"), out var to) ? to : ModelStage.Registered,
                    e["FromShare"] is double fs ? fs : 0,
                    e["ToShare"] is double ts ? ts : 0,
                    e.Get<string>("Reason") ?? "",
                    ReadEvidence(e.Get<string>("Evidence"))));
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // no table yet: no history
        }

        return events;
    }

    private static string WriteEvidence(IReadOnlyDictionary<string, string> evidence)
    {
        return JsonText.Write(w =>
        {
            w.WriteStartObject();
            foreach (var (name, value) in evidence)
            {
                w.WriteString(name, value);
            }

            w.WriteEndObject();
        });
    }

    private static Dictionary<string, string> ReadEvidence(string? json)
    {
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json is null)
        {
            return evidence;
        }

        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            evidence[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }

        return evidence;
    }
}
