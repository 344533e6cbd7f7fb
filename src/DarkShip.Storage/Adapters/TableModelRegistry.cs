using DarkShip.Serving.Registry;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Adapters;

/// <summary>
/// The registry in the <c>Models</c> table: PK = model name, RK = version, one row per version.
/// Every change also touches the revision row (PK <c>~</c>, RK <c>revision</c>), whose ETag is the
/// registry's revision: the serving path polls that one row and reads the rest only when it moved.
/// Changes to a version row go through <c>If-Match</c>, so of two concurrent changes one wins.
/// </summary>
public sealed class TableModelRegistry(TableClient table) : IModelRegistry
{
    /// <summary>The registry table's name.</summary>
    public const string TableName = "Models";

    private const string RevisionPartition = "~";
    private const string RevisionRow = "revision";

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
        try
        {
            await foreach (var row in table.QueryAsync(ODataFilter.Create($"PartitionKey ne {RevisionPartition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                versions.Add(ToVersion(row));
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // no table yet: an empty registry
        }

        return new RegistrySnapshot(revision, versions);
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
    public async Task<bool> TryUpdateAsync(ModelVersion version, CancellationToken cancellationToken = default)
    {
        if (version.ETag is null)
        {
            throw new ArgumentException("An update needs the ETag the version was read with.", nameof(version));
        }

        var result = await table.UpdateEntityAsync(ToEntity(version), new Azure.ETag(version.ETag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
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
    };

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
        e.ETag.ToString());
}
