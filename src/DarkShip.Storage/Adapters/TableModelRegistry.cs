using DarkShip.Serving.Registry;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The registry in the <c>Models</c> table: PK = model name, RK = version, one row per version.
/// Each model's partition also holds its revision row (RK <c>~revision</c>), rewritten in the same
/// transaction as every change to the model's versions or rules, so a change and its revision are
/// committed together or not at all: no committed promotion or rollback can stay invisible to serving.
/// The registry's revision is the set of those rows' ETags; the serving path polls just those rows
/// and reads the rest only when one moved. Changes to version rows go through <c>If-Match</c> in that
/// one transaction, so a promotion that moves two versions is all or nothing, and of two concurrent
/// changes one wins. A model's promotion rules are the row RK = <c>~rules</c>, one property per rule.
/// </summary>
public sealed class TableModelRegistry(TableClient table) : IModelRegistry
{
    /// <summary>The registry table's name.</summary>
    public const string TableName = "Models";

    /// <summary>The row key of a model's revision row (<c>~</c> sorts after every version label).</summary>
    public const string RevisionRow = "~revision";

    /// <summary>The row key of a model's promotion rules (<c>~</c> sorts after every version label).</summary>
    public const string RulesRow = "~rules";

    /// <summary>The revision of a registry with no model in it (or no table yet).</summary>
    private const string EmptyRevision = "none";

    /// <summary>Creates the table if needed.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => table.CreateIfMissingAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default)
    {
        string revision;
        try
        {
            var marks = new List<string>();
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {RevisionRow}"), select: ["PartitionKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                marks.Add(row.PartitionKey + "=" + row.ETag);
            }

            marks.Sort(StringComparer.Ordinal);
            revision = marks.Count == 0 ? EmptyRevision : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", marks))));
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // No table yet: an empty registry, without asking a second time.
            return knownRevision == EmptyRevision ? null : new RegistrySnapshot(EmptyRevision, []);
        }

        if (revision == knownRevision)
        {
            return null;
        }

        var versions = new List<ModelVersion>();
        var rules = new Dictionary<string, PromotionRules>(StringComparer.Ordinal);
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (row.RowKey == RulesRow)
                {
                    rules[row.PartitionKey] = ToRules(row);
                }
                else if (row.RowKey != RevisionRow && !row.RowKey.StartsWith('~'))
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
        var result = await table.TrySubmitAsync([new TableTransactionAction(TableTransactionActionType.Add, ToEntity(version)), Revision(version.Name)], cancellationToken).ConfigureAwait(false);
        return result.Succeeded || (result.FailedStatus is 409 ? false : throw Failed(result));
    }

    /// <inheritdoc />
    public async Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default)
    {
        if (versions.Any(v => v.ETag is null))
        {
            throw new ArgumentException("An update needs the ETag each version was read with.", nameof(versions));
        }

        if (versions.Select(v => v.Name).Distinct(StringComparer.Ordinal).Count() != 1)
        {
            throw new ArgumentException("An update changes the versions of one model.", nameof(versions));
        }

        var result = await table.TrySubmitAsync(
            [.. versions.Select(v => new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(v), new Azure.ETag(v.ETag!))), Revision(versions[0].Name)],
            cancellationToken).ConfigureAwait(false);
        return result.Succeeded || (result.FailedStatus is 412 or 404 ? false : throw Failed(result));
    }

    /// <inheritdoc />
    public async Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(model, RulesRow);
        foreach (var (name, value) in rules.ToValues())
        {
            entity[name] = value;
        }

        var write = rules.ETag is null ? new TableTransactionAction(TableTransactionActionType.Add, entity) : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new Azure.ETag(rules.ETag));
        var result = await table.TrySubmitAsync([write, Revision(model)], cancellationToken).ConfigureAwait(false);
        return result.Succeeded || (result.FailedStatus is 409 or 412 or 404 ? false : throw Failed(result));
    }

    /// <summary>The model's revision row, rewritten by every transaction that changes the model.</summary>
    private static TableTransactionAction Revision(string model) =>
        new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(model, RevisionRow) { ["ChangedAt"] = Guid.NewGuid().ToString("N") });

    private static Azure.RequestFailedException Failed(TableTransactionResult result) =>
        new(result.FailedStatus, $"The registry transaction failed: {result.ErrorCode} {result.ErrorMessage}");

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
