using DarkShip.Serving.Features;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Predictions;

/// <summary>How one group's read went.</summary>
public enum GroupReadStatus
{
    /// <summary>The entity's row was read (or served from the TTL cache).</summary>
    Found,

    /// <summary>The entity has no row in the group.</summary>
    NotFound,

    /// <summary>The request gave no key for the group.</summary>
    NoKey,

    /// <summary>The read did not finish within the request's feature budget.</summary>
    TimedOut,

    /// <summary>The read failed.</summary>
    Failed,
}

/// <summary>One (group, entity) the request needs.</summary>
/// <param name="Group">The feature group.</param>
/// <param name="EntityKey">The entity, or <see langword="null"/> when the request gave none.</param>
/// <param name="CacheFor">How long the row may be reused (zero: always read).</param>
public readonly record struct GroupWanted(string Group, string? EntityKey, TimeSpan CacheFor);

/// <summary>The outcome of one group's read.</summary>
public readonly record struct GroupRead(GroupReadStatus Status, FeatureRow? Row);

/// <summary>
/// Reads the latest feature rows a request needs: all at once, in parallel, one point read per
/// (group, entity), within a time budget. Whatever has not answered when the budget runs out is
/// reported as timed out and the request goes on without it; a failed read is reported, never thrown.
/// Rows of groups whose manifest allows it are reused from a TTL cache bounded to
/// <see cref="ServingOptions.FeatureCacheEntries"/>: at capacity it evicts the least recently used tenth
/// in the background, never the whole cache at once, so a full cache does not send every request to storage.
/// </summary>
public sealed partial class FeatureReader(IFeatureStore store, TimeProvider time, ServingOptions options, ILogger<FeatureReader> logger) : IDisposable
{
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = options.FeatureCacheEntries, CompactionPercentage = 0.1 });

    /// <summary>Rows in the TTL cache.</summary>
    public long CachedRows => cache.Count;

    /// <inheritdoc />
    public void Dispose() => cache.Dispose();

    /// <summary>Reads <paramref name="wanted"/>; the answer has one entry per entry of <paramref name="wanted"/>.</summary>
    public async Task<GroupRead[]> ReadAsync(IReadOnlyList<GroupWanted> wanted, CancellationToken cancellationToken)
    {
        var reads = new GroupRead[wanted.Count];
        var pending = new Task<FeatureRow?>?[wanted.Count];
        var now = time.GetUtcNow();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var anyPending = false;
        for (var i = 0; i < wanted.Count; i++)
        {
            var w = wanted[i];
            if (w.EntityKey is null)
            {
                reads[i] = new GroupRead(GroupReadStatus.NoKey, null);
            }
            else if (w.CacheFor > TimeSpan.Zero && cache.TryGetValue(new CacheKey(w.Group, w.EntityKey), out CachedRow? hit) && hit!.Until > now)
            {
                reads[i] = new GroupRead(hit.Row is null ? GroupReadStatus.NotFound : GroupReadStatus.Found, hit.Row);
            }
            else
            {
                pending[i] = Start(w.Group, w.EntityKey, budget.Token);
                anyPending = true;
            }
        }

        if (!anyPending)
        {
            return reads;
        }

        // Never wait past the budget, even for a store that ignores cancellation.
        var all = Task.WhenAll(pending.OfType<Task<FeatureRow?>>());
        if (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(options.FeatureBudget, time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await budget.CancelAsync().ConfigureAwait(false);
        var readAt = time.GetUtcNow();
        for (var i = 0; i < wanted.Count; i++)
        {
            if (pending[i] is not { } task)
            {
                continue;
            }

            var w = wanted[i];
            if (task.IsCompletedSuccessfully)
            {
                reads[i] = new GroupRead(task.Result is null ? GroupReadStatus.NotFound : GroupReadStatus.Found, task.Result);
                Remember(w, task.Result, readAt);
            }
            else if (task.IsFaulted)
            {
                reads[i] = new GroupRead(GroupReadStatus.Failed, null);
                LogReadFailed(logger, task.Exception.GetBaseException(), w.Group, w.EntityKey!);
            }
            else
            {
                reads[i] = new GroupRead(GroupReadStatus.TimedOut, null);
                LogReadTimedOut(logger, w.Group, w.EntityKey!, options.FeatureBudgetMilliseconds);
            }
        }

        return reads;
    }

    private Task<FeatureRow?> Start(string group, string entity, CancellationToken cancellationToken)
    {
        Task<FeatureRow?> task;
        try
        {
            task = store.GetLatestAsync(group, entity, cancellationToken).AsTask();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            task = Task.FromException<FeatureRow?>(e);
        }

        // A read abandoned at the budget may fault later; observe it so it is not reported as unobserved.
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private void Remember(GroupWanted w, FeatureRow? row, DateTimeOffset now)
    {
        if (w.CacheFor <= TimeSpan.Zero)
        {
            return;
        }

        // Expiry is judged on our clock (Until); the cache's own expiry only frees the memory of stale rows.
        cache.Set(new CacheKey(w.Group, w.EntityKey!), new CachedRow(row, now + w.CacheFor), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = w.CacheFor });
    }

    private readonly record struct CacheKey(string Group, string Entity);

    private sealed record CachedRow(FeatureRow? Row, DateTimeOffset Until);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature read {Group}/{Entity} failed; the request uses defaults")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string group, string entity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature read {Group}/{Entity} exceeded the {Budget} ms budget; the request uses defaults")]
    private static partial void LogReadTimedOut(ILogger logger, string group, string entity, int budget);
}
