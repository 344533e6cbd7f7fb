using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Models;

/// <summary>How one scoring went.</summary>
public enum ScoreStatus
{
    /// <summary>Every output is a finite number.</summary>
    Scored,

    /// <summary>The model threw.</summary>
    Threw,

    /// <summary>The model returned NaN or an infinity.</summary>
    NonFinite,

    /// <summary>The model did not return within its budget (it may still be running).</summary>
    TimedOut,

    /// <summary>The model was not called: an earlier call of it has still not returned.</summary>
    Stuck,
}

/// <summary>What one scoring came to, and how long it took.</summary>
/// <param name="Status">Scored, or why not.</param>
/// <param name="Milliseconds">Time spent in the model (the budget, for one that did not return).</param>
/// <param name="Error">What it threw, for <see cref="ScoreStatus.Threw"/>.</param>
public readonly record struct ScoreResult(ScoreStatus Status, double Milliseconds, Exception? Error = null)
{
    /// <summary>Whether the outputs can be used.</summary>
    public bool Succeeded => Status == ScoreStatus.Scored;
}

/// <summary>
/// The one way the live path, ShadowScore and replay call a model: outputs that are not finite are a
/// failure like an exception, and a failure is returned as a value and logged at Warning, at most once
/// a minute per version (with the count of those not logged in between), so a broken model cannot
/// flood the log nor go unnoticed. <see cref="ScoreWithinAsync"/> enforces a budget without trusting
/// the model to return: the call runs on the thread pool, the caller stops waiting at the budget, and
/// until a call that overran has returned the version is not called again (<see cref="ScoreStatus.Stuck"/>),
/// so a hung model costs one thread, never a partition.
/// </summary>
public sealed partial class ModelScorer(TimeProvider time, ILogger<ModelScorer> logger)
{
    /// <summary>Least time between two failure logs of one version.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly ConditionalWeakTable<LoadedModel, Health> health = [];

    /// <summary>Scores one row on the calling thread (the live path and replay: the model's own time is the budget).</summary>
    public ScoreResult Score(LoadedModel model, ReadOnlySpan<float> input, Span<float> scores)
    {
        var started = time.GetTimestamp();
        ScoreResult result;
        try
        {
            model.Model.Predict(input, scores);
            result = new ScoreResult(AllFinite(scores) ? ScoreStatus.Scored : ScoreStatus.NonFinite, time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            result = new ScoreResult(ScoreStatus.Threw, time.GetElapsedTime(started).TotalMilliseconds, e);
        }

        return Report(model, result);
    }

    /// <summary>
    /// Scores one row within <paramref name="budget"/> on the thread pool; a model that has not returned
    /// by then is <see cref="ScoreStatus.TimedOut"/> (and <see cref="ScoreStatus.Stuck"/> until it does).
    /// <paramref name="scores"/> is written only when the result is <see cref="ScoreStatus.Scored"/>.
    /// </summary>
    public async Task<ScoreResult> ScoreWithinAsync(LoadedModel model, float[] input, float[] scores, TimeSpan budget, CancellationToken cancellationToken)
    {
        var state = health.GetValue(model, static _ => new Health());
        if (Volatile.Read(ref state.Running) is { IsCompleted: false })
        {
            return Report(model, new ScoreResult(ScoreStatus.Stuck, 0));
        }

        // The model writes into its own buffer: a call that overruns must not write into the caller's later.
        var own = new float[scores.Length];
        var started = time.GetTimestamp();
        var call = Task.Run(() =>
        {
            model.Model.Predict(input, own);
            return time.GetElapsedTime(started).TotalMilliseconds;
        }, CancellationToken.None);
        ScoreResult result;
        try
        {
            var ms = await call.WaitAsync(budget, time, cancellationToken).ConfigureAwait(false);
            result = ms > budget.TotalMilliseconds ? new ScoreResult(ScoreStatus.TimedOut, ms)
                : AllFinite(own) ? new ScoreResult(ScoreStatus.Scored, ms)
                : new ScoreResult(ScoreStatus.NonFinite, ms);
        }
        catch (TimeoutException)
        {
            Volatile.Write(ref state.Running, call);
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            result = new ScoreResult(ScoreStatus.TimedOut, budget.TotalMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            result = new ScoreResult(ScoreStatus.Threw, time.GetElapsedTime(started).TotalMilliseconds, e);
        }

        if (result.Succeeded)
        {
            own.CopyTo(scores, 0);
        }

        return Report(model, result);
    }

    private ScoreResult Report(LoadedModel model, ScoreResult result)
    {
        if (result.Succeeded)
        {
            return result;
        }

        var state = health.GetValue(model, static _ => new Health());
        var now = time.GetUtcNow();
        long suppressed;
        lock (state)
        {
            if (now - state.LastLogged < LogInterval)
            {
                state.Suppressed++;
                return result;
            }

            state.LastLogged = now;
            suppressed = state.Suppressed;
            state.Suppressed = 0;
        }

        LogFailed(logger, result.Error, model.Version.Name, model.Version.Version, model.Version.Stage, result.Status, suppressed);
        return result;
    }

    private static bool AllFinite(ReadOnlySpan<float> scores)
    {
        foreach (var s in scores)
        {
            if (!float.IsFinite(s))
            {
                return false;
            }
        }

        return true;
    }

    [LoggerMessage(EventId = 6300, EventName = "ModelScoringFailed", Level = LogLevel.Warning,
        Message = "{Model} version {Version} ({Stage}) could not score: {Status} ({Suppressed} more failures since the last report)")]
    private static partial void LogFailed(ILogger logger, Exception? exception, string model, string version, Registry.ModelStage stage, ScoreStatus status, long suppressed);

    private sealed class Health
    {
        public Task? Running;
        public DateTimeOffset LastLogged = DateTimeOffset.MinValue;
        public long Suppressed;
    }
}
