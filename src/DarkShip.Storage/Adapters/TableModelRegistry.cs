using DarkShip.Serving.Registry;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The registry in the <c>Models</c> table: PK = model name, RK = version, one row per version.
/// Every change also touches the revision row (PK <c>~</c>, RK <c>revision</c>), whose ETag is the
/// registry's revision: the serving path polls that one row and reads the rest only when it moved.
/// Changes to version rows go through <c>If-Match</c> in one transaction (a model's rows share its
/// partition), so a promotion that moves two versions is all or nothing, and of two concurrent changes
/// one wins. A model's promotion rules are the row RK = <c>~rules</c>, one property per rule.
/// </summary>
public sealed class TableModelRegistry(TableClient table) : IModelRegistry
{
    /// <summary>The registry table's name.</summary>
    public const string TableName = "Models";

    private const string RevisionPartition = "~";
    private const string RevisionRow = "revision";

    /// <summary>The row key of a model's promotion rules (<c>~</c> sorts after every version label).</summary>
    public const string RulesRow = "~rules";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfNotExistsAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default)
    {
        var marker = await table.GetEntityAsync(RevisionPartition, RevisionRow, ["ChangedAt"], cancellationToken).ConfigureAwait(false);
        var revision = marker?.ETag.ToString() ?? "none";
        if (revision == knownRevision)
        {
            return null;
        }

        var versions = new List<ModelVersion>();
        var rules = new Dictionary<string, PromotionRules>(StringComparer.Ordinal);
        try
        {
            await foreach (var row in table.QueryAsync(ODataFilter.Create($"PartitionKey ne {RevisionPartition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (row.RowKey == RulesRow)
                {
                    rules[row.PartitionKey] = ToRules(row);
                }
                else
                {
                    versions.Add(ToVersion(row));
                }
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // no table yet: an empty registry
        }

        return new RegistrySnapshot(revision, versions, rules);
    }

    /// <inheritdoc />
    public async Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default)
    {
        var result = await table.AddEntityAsync(ToEntity(version), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return false;
        }

        await BumpRevisionAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default)
    {
        if (versions.Any(v => v.ETag is null))
        {
            throw new ArgumentException("An update needs the ETag each version was read with.", nameof(versions));
        }

        var result = await table.SubmitTransactionAsync(
            [.. versions.Select(v => TableTransactionAction.Update(ToEntity(v), new Azure.ETag(v.ETag!), TableUpdateMode.Replace))],
            cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return result.FailedStatus is 412 or 404 ? false : throw new Azure.RequestFailedException(result.FailedStatus, $"The registry transaction failed: {result.ErrorCode} {result.ErrorMessage}");
        }

        await BumpRevisionAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(model, RulesRow);
        foreach (var (name, value) in rules.ToValues())
        {
            entity[name] = value;
        }

        var result = rules.ETag is null
            ? await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false)
            : await table.UpdateEntityAsync(entity, new Azure.ETag(rules.ETag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return false;
        }

        await BumpRevisionAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private Task BumpRevisionAsync(CancellationToken cancellationToken) =>
        table.UpsertEntityAsync(new TableEntity(RevisionPartition, RevisionRow) { ["ChangedAt"] = Guid.NewGuid().ToString("N") }, TableUpdateMode.Replace, cancellationToken);

    private static TableEntity ToEntity(ModelVersion v) => new(v.Name, v.Version)
    {
        ["Stage"] = v.Stage.ToString(),
        ["SharePercent"] = v.SharePercent,
        ["ArtifactPath"] = v.ArtifactPath,
        ["ArtifactSha256"] = v.ArtifactSha256,
        ["ManifestPath"] = v.ManifestPath,
        ["ManifestSha256"] = v.ManifestSha256,
        ["RegisteredAt"] = v.RegisteredAt.ToUniversalTime(),
        ["ChangedAt"] = v.ChangedAt.ToUniversalTime(),
        ["PreviousStage"] = v.PreviousStage?.ToString(),
    };

    /// <remarks>A stored value that no longer parses (edited by hand) keeps its default rather than stopping every promotion; `models rules` shows and fixes it.</remarks>
    private static PromotionRules ToRules(TableEntity e)
    {
        var rules = PromotionRules.Default with { ETag = e.ETag.ToString() };
        foreach (var name in PromotionRules.Names)
        {
            if (e[name] is { } value)
            {
                try
                {
                    rules = rules.With(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                }
                catch (FormatException)
                {
                    // keep the default for this rule
                }
            }
        }

        return rules;
    }

    private static ModelVersion ToVersion(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        Enum.TryParse<ModelStage>(e.Get<string>("Stage"), out var stage) ? stage : ModelStage.Registered,
        e["SharePercent"] switch { double d => d, int i => i, long l => l, _ => 0 },
        e.Get<string>("ArtifactPath") ?? "",
        e.Get<string>("ArtifactSha256") ?? "",
        e.Get<string>("ManifestPath") ?? "",
        e.Get<string>("ManifestSha256") ?? "",
        e.Get<DateTimeOffset>("RegisteredAt"),
        e.ETag.ToString())
    {
        ChangedAt = e["ChangedAt"] is DateTimeOffset changed ? changed : e.Get<DateTimeOffset>("RegisteredAt"),
        PreviousStage = Enum.TryParse<ModelStage>(e.Get<string>("PreviousStage"), out var previous) ? previous : null,
    };
}
