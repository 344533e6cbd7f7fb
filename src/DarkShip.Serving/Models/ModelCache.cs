using DarkShip.Serving.Features;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Models;

/// <summary>
/// The compiled models the serving path scores with. <see cref="RefreshAsync"/> polls the registry's
/// revision; when it changed, it loads every new live version (download, SHA-256 check, compile,
/// manifest check against the model and the feature store) and swaps the whole lineup table in one
/// reference write, so a request sees either the old lineups or the new ones, never a mix.
/// A version that fails to load never replaces a working one: the previous champion keeps serving
/// and the reason is logged; the failed load is retried on the next poll.
/// </summary>
public sealed partial class ModelCache(IModelRegistry registry, IModelArtifactStore artifacts, IFeatureStore features, ILogger<ModelCache> logger) : IModelLineups
{
    private readonly TaskCompletionSource firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private readonly ModelLoader loader = new(features);
    private Dictionary<string, ModelLineup> lineups = new(StringComparer.Ordinal);
    private Dictionary<string, LoadedModel> loaded = new(StringComparer.Ordinal);
    private string? knownRevision;

    /// <summary>Whether the registry has been read successfully at least once.</summary>
    public bool IsLoaded => firstLoad.Task.IsCompleted;

    /// <summary>The model's lineup, or <see langword="null"/> when no version of it is live.</summary>
    public ModelLineup? Find(string name) => Volatile.Read(ref lineups).GetValueOrDefault(name);

    /// <summary>Every lineup.</summary>
    public IReadOnlyCollection<ModelLineup> Lineups => Volatile.Read(ref lineups).Values;

    /// <summary>Waits until the first registry read completed, at most <paramref name="timeout"/>; <see langword="false"/> on time-out.</summary>
    public async Task<bool> WaitUntilLoadedAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (IsLoaded)
        {
            return true;
        }

        try
        {
            await firstLoad.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Reads the registry if its revision changed and loads what is new. Returns whether the lineups were rebuilt.</summary>
    public Task<bool> RefreshAsync(CancellationToken cancellationToken = default) => ReadRegistryAsync(full: false, cancellationToken);

    /// <summary>
    /// Reads the whole registry whatever its revision says and loads what is new: the backstop against a
    /// change that did not move the revision. Returns whether the lineups were rebuilt.
    /// </summary>
    public Task<bool> ReloadAsync(CancellationToken cancellationToken = default) => ReadRegistryAsync(full: true, cancellationToken);

    private async Task<bool> ReadRegistryAsync(bool full, CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = await registry.ReadIfChangedAsync(full ? null : knownRevision, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                return false;
            }

            var failed = false;
            var next = new Dictionary<string, LoadedModel>(StringComparer.Ordinal);
            foreach (var version in snapshot.Versions.Where(v => v.IsLive))
            {
                var key = KeyOf(version);
                if (loaded.TryGetValue(key, out var known))
                {
                    next[key] = known with { Version = version };
                    continue;
                }

                try
                {
                    next[key] = await loader.LoadAsync(version, artifacts, cancellationToken).ConfigureAwait(false);
                    LogLoaded(logger, version.Name, version.Version, version.Stage);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failed = true;
                    Telemetry.DarkShipTelemetry.ModelLoadFailures.Add(1, new KeyValuePair<string, object?>("model", version.Name), new KeyValuePair<string, object?>("version", version.Version));
                    LogLoadFailed(logger, e, version.Name, version.Version, version.Stage, e.Message);
                }
            }

            var previous = Volatile.Read(ref lineups);
            var built = Build(snapshot.Versions, next, previous);
            loaded = next;
            Volatile.Write(ref lineups, built);
            knownRevision = failed ? null : snapshot.Revision; // a failed load is retried on the next poll
            firstLoad.TrySetResult();
            return true;
        }
        finally
        {
            refreshing.Release();
        }
    }

    private Dictionary<string, ModelLineup> Build(IReadOnlyList<ModelVersion> versions, Dictionary<string, LoadedModel> next, Dictionary<string, ModelLineup> previous)
    {
        var built = new Dictionary<string, ModelLineup>(StringComparer.Ordinal);
        foreach (var name in versions.Where(v => v.IsLive).Select(v => v.Name).Concat(previous.Keys).Distinct(StringComparer.Ordinal))
        {
            LoadedModel? Loaded(ModelVersion v) => next.GetValueOrDefault(KeyOf(v));
            var mine = versions.Where(v => v.Name == name && v.IsLive).ToList();
            var championRow = mine.Where(v => v.Stage == ModelStage.Champion).MaxBy(v => v.RegisteredAt);
            var champion = championRow is null ? null : Loaded(championRow);
            if (champion is null && previous.GetValueOrDefault(name)?.Champion is { } working && (championRow is not null || mine.Count > 0))
            {
                // The registry names a champion that did not load (or none while challengers are live): keep serving the one that works.
                champion = working;
                if (championRow is not null)
                {
                    LogKeptChampion(logger, name, working.Version.Version, championRow.Version);
                }
            }

            var experimentRow = mine.Where(v => v.Stage == ModelStage.Experiment).MaxBy(v => v.RegisteredAt);
            var experiment = experimentRow is null ? null : Loaded(experimentRow);
            var shadows = mine.Where(v => v.Stage == ModelStage.Shadow).Select(Loaded).OfType<LoadedModel>().ToList();
            if (champion is not null || experiment is not null || shadows.Count > 0)
            {
                built[name] = new ModelLineup(name, champion, experiment, shadows);
            }
        }

        return built;
    }

    private static string KeyOf(ModelVersion v) => $"{v.Name}\n{v.Version}\n{v.ArtifactSha256}\n{v.ManifestSha256}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Model} version {Version} ({Stage})")]
    private static partial void LogLoaded(ILogger logger, string model, string version, ModelStage stage);

    /// <summary>The log event of a version that could not be loaded (alerts query it: a registered move that serving cannot follow).</summary>
    public const int LoadFailedEventId = 6120;

    [LoggerMessage(EventId = LoadFailedEventId, EventName = "ModelLoadFailed", Level = LogLevel.Error, Message = "Could not load {Model} version {Version} ({Stage}); it serves nothing until fixed: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string model, string version, ModelStage stage, string reason);

    [LoggerMessage(EventId = 6121, EventName = "ChampionKept", Level = LogLevel.Warning, Message = "{Model}: version {Kept} keeps answering because the registry's champion {Wanted} did not load")]
    private static partial void LogKeptChampion(ILogger logger, string model, string kept, string wanted);
}
