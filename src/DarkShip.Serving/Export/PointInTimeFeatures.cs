using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Export;

/// <summary>A logged prediction with another manifest's input built for it, as that manifest would have been served then.</summary>
/// <param name="Row">The logged row (and its outcome).</param>
/// <param name="Input">The manifest's input, one float per column, in model column order.</param>
/// <param name="FromLog">Per column, whether the value is the logged one (served, same definition) rather than read as of the prediction.</param>
/// <param name="Degraded">What fell back to defaults for this input (<c>device_risk:missing</c>), served or read.</param>
public sealed record PointInTimeRow(TrainingRow Row, float[] Input, bool[] FromLog, IReadOnlyList<string> Degraded);

/// <summary>Finds the manifest a logged version was served with.</summary>
public interface IServedManifests
{
    /// <summary>The manifest of <paramref name="model"/>'s <paramref name="version"/>, or <see langword="null"/> when the registry no longer knows it.</summary>
    ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default);
}

/// <summary>
/// Builds a manifest's input for logged predictions, point-in-time correct: a feature the logged version
/// scored with the same definition (group, property, type, default, bounds, max age, categories) is
/// taken from the log exactly as served; every other feature is read from the feature store <em>as of
/// the prediction's timestamp</em>, so a snapshot written later never leaks in, and then goes through
/// the serving path's own fill (defaults, staleness judged at the prediction's time, range checks).
/// What the training export's <c>--features</c> and replay both use. Rows are taken in blocks; the as-of
/// reads are answered from entities' histories held in memory (<see cref="FeatureHistoryCache"/>): an
/// entity first met in a block is read once, from the block's first instant to
/// <paramref name="readAheadTo"/> (the export's or replay's end), so its later rows cost no read at all;
/// the histories held are bounded by <paramref name="historyBudget"/> snapshots. Order is kept.
/// </summary>
public sealed class PointInTimeFeatures(
    IFeatureStore features,
    IServedManifests served,
    FeaturePlan plan,
    int parallelism = 32,
    DateTimeOffset? readAheadTo = null,
    int historyBudget = FeatureHistoryCache.DefaultBudget)
{
    /// <summary>Rows per block.</summary>
    public const int BlockSize = 256;

    private readonly Dictionary<string, bool[]> fromLogByVersion = new(StringComparer.Ordinal);
    private readonly FeatureHistoryCache histories = new(features, historyBudget, parallelism);

    /// <summary>The manifest compiled.</summary>
    public FeaturePlan Plan { get; } = plan;

    /// <summary>The features taken from the log, for the rows of at least one version read so far.</summary>
    public IReadOnlyList<string> FeaturesFromLog => [.. Plan.Features.Where((_, i) => fromLogByVersion.Values.Any(m => m[i])).Select(f => f.Name)];

    /// <summary>The features read as of each prediction, for the rows of at least one version read so far.</summary>
    public IReadOnlyList<string> FeaturesAsOf => [.. Plan.Features.Where((_, i) => fromLogByVersion.Values.Any(m => !m[i])).Select(f => f.Name)];

    /// <summary>Entity history reads made so far (one per entity and range, not per row).</summary>
    public long HistoryReads => histories.Reads;

    /// <summary><paramref name="rows"/>, in order, each with the manifest's input.</summary>
    public async IAsyncEnumerable<PointInTimeRow> ReadAsync(IAsyncEnumerable<TrainingRow> rows, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var block = new List<TrainingRow>(BlockSize);
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            block.Add(row);
            if (block.Count == BlockSize)
            {
                foreach (var filled in await FillAsync(block, cancellationToken).ConfigureAwait(false))
                {
                    yield return filled;
                }

                block.Clear();
            }
        }

        foreach (var filled in await FillAsync(block, cancellationToken).ConfigureAwait(false))
        {
            yield return filled;
        }
    }

    /// <summary>The manifest's input for each of <paramref name="block"/>.</summary>
    public async Task<IReadOnlyList<PointInTimeRow>> FillAsync(IReadOnlyList<TrainingRow> block, CancellationToken cancellationToken = default)
    {
        var masks = new bool[block.Count][];
        var needs = new Dictionary<(string Group, string Entity), (DateTimeOffset From, DateTimeOffset To)>();
        for (var r = 0; r < block.Count; r++)
        {
            var e = block[r].Row.Entry;
            masks[r] = await FromLogAsync(e.Model, e.Version, e.Features, cancellationToken).ConfigureAwait(false);
            for (var g = 0; g < Plan.Groups.Length; g++)
            {
                var group = Plan.Groups[g].Name;
                if (NeedsRead(masks[r], g) && e.Entities.TryGetValue(group, out var entity))
                {
                    needs[(group, entity)] = needs.TryGetValue((group, entity), out var range)
                        ? (e.Timestamp < range.From ? e.Timestamp : range.From, e.Timestamp > range.To ? e.Timestamp : range.To)
                        : (e.Timestamp, e.Timestamp);
                }
            }
        }

        await histories.EnsureAsync(needs, readAheadTo, cancellationToken).ConfigureAwait(false);
        var filled = new PointInTimeRow[block.Count];
        var inline = new object?[Plan.Features.Length];
        var groupRows = new FeatureRow?[Plan.Groups.Length];
        for (var r = 0; r < block.Count; r++)
        {
            var e = block[r].Row.Entry;
            for (var g = 0; g < Plan.Groups.Length; g++)
            {
                var group = Plan.Groups[g].Name;
                groupRows[g] = e.Entities.TryGetValue(group, out var entity) && needs.ContainsKey((group, entity)) ? histories.AsOf(group, entity, e.Timestamp) : null;
            }

            var input = new float[Plan.Features.Length];
            var fallbacks = new FeatureFallback[Plan.Features.Length];
            Plan.Fill(inline, groupRows, e.Timestamp, input, fallbacks);
            var degraded = new List<string>();
            for (var i = 0; i < input.Length; i++)
            {
                var name = Plan.Features[i].Name;
                if (masks[r][i])
                {
                    input[i] = Logged(e.Features, name);
                    degraded.AddRange(e.Degraded.Where(d => d.Length > name.Length && d[name.Length] == ':' && d.StartsWith(name, StringComparison.Ordinal)));
                }
                else if (fallbacks[i] != FeatureFallback.None)
                {
                    degraded.Add(DegradedReasons.Feature(name, fallbacks[i]));
                }
            }

            filled[r] = new PointInTimeRow(block[r], input, masks[r], degraded);
        }

        return filled;
    }

    /// <summary>Whether two definitions of a feature give the same value from the same data.</summary>
    public static bool SameDefinition(ManifestFeature a, ManifestFeature b) =>
        a.Name == b.Name && a.Group == b.Group && a.Property == b.Property && a.Type == b.Type
        && (a.Default.Equals(b.Default)) && a.Min == b.Min && a.Max == b.Max && a.MaxAge == b.MaxAge
        && (a.Categories ?? []).SequenceEqual(b.Categories ?? [], StringComparer.Ordinal);

    private bool NeedsRead(bool[] fromLog, int group)
    {
        for (var i = 0; i < fromLog.Length; i++)
        {
            if (!fromLog[i] && Plan.GroupIndex[i] == group)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Per column, whether the logged version served it with the same definition (a version the registry forgot: by name).</summary>
    private async ValueTask<bool[]> FromLogAsync(string model, string version, IReadOnlyList<KeyValuePair<string, float>> logged, CancellationToken cancellationToken)
    {
        if (fromLogByVersion.TryGetValue(version, out var known))
        {
            return known;
        }

        var manifest = await served.FindAsync(model, version, cancellationToken).ConfigureAwait(false);
        var mask = new bool[Plan.Features.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            var mine = Plan.Features[i];
            mask[i] = manifest is null
                ? logged.Any(f => f.Key == mine.Name)
                : manifest.Features.Any(f => SameDefinition(f, mine)) && logged.Any(f => f.Key == mine.Name);
        }

        fromLogByVersion[version] = mask;
        return mask;
    }

    private static float Logged(IReadOnlyList<KeyValuePair<string, float>> features, string name)
    {
        foreach (var (key, value) in features)
        {
            if (key == name)
            {
                return value;
            }
        }

        return float.NaN;
    }
}

/// <summary>The manifests of registered versions, downloaded once each.</summary>
public sealed class RegisteredManifests(Registry.IModelRegistry registry, Registry.IModelArtifactStore artifacts) : IServedManifests
{
    private readonly Dictionary<(string, string), ModelManifest?> known = [];
    private Registry.RegistrySnapshot? snapshot;

    /// <inheritdoc />
    public async ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default)
    {
        if (known.TryGetValue((model, version), out var manifest))
        {
            return manifest;
        }

        snapshot ??= await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var row = snapshot.Of(model).FirstOrDefault(v => v.Version == version);
        manifest = row is null ? null : ManifestReader.Parse(await artifacts.DownloadAsync(row.ManifestPath, row.ManifestSha256, cancellationToken).ConfigureAwait(false));
        known[(model, version)] = manifest;
        return manifest;
    }
}
