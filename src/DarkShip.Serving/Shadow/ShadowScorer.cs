using System.Text;
using DarkShip.Serving.Features;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Telemetry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Shadow;

/// <summary>How ShadowScore behaves; bound from the <c>Shadow</c> configuration section (app settings <c>Shadow__…</c>).</summary>
public sealed class ShadowOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shadow";

    /// <summary>Longest a shadow model may take to score one request before the scoring counts as timed out against it. Default 50 ms.</summary>
    public int ModelBudgetMilliseconds { get; set; } = 50;

    /// <summary>Longest an as-of feature read may take before the request is skipped for that model (not counted against it). Default 1000 ms.</summary>
    public int FeatureBudgetMilliseconds { get; set; } = 1000;

    /// <summary>Length of an aggregate window. Default 300 s (five minutes).</summary>
    public int WindowSeconds { get; set; } = 300;
}

/// <summary>One event of a batch from the mirror hub.</summary>
/// <param name="SequenceNumber">Its sequence number in the partition.</param>
/// <param name="Body">The event body (a mirror event as JSON).</param>
/// <param name="EnqueuedTime">When the hub received it.</param>
public sealed record MirroredMessage(long SequenceNumber, string Body, DateTimeOffset? EnqueuedTime);

/// <summary>What a batch came to.</summary>
public sealed record ShadowBatchResult(int Events, int DeadLettered, int ShadowScored, int ShadowFailed, int WindowsUpdated);

/// <summary>
/// ShadowScore's work on one batch of mirrored predictions from one partition. Every Shadow model
/// scores the requests in its sampled share (a hash of salt, model and the request's entity key, so
/// an entity is in or out for good); features the champion did not carry are read as of the event's
/// timestamp, so the shadow sees what was true then. Each shadow score goes to the model log; every
/// version's scorings (the live ones too, from the event's outputs) are counted into windowed
/// aggregates, with each challenger paired against the champion on the same requests.
/// A model that throws, returns NaN or overruns its budget is counted against itself and skipped;
/// an event that cannot be read goes to the dead letters and the batch still succeeds; a re-delivered
/// batch is not counted twice. A failure to write the model log or the aggregates fails the batch, so
/// the host delivers it again.
/// </summary>
public sealed partial class ShadowScorer(
    IModelLineups models,
    ModelScorer scorer,
    IFeatureStore features,
    IBatchSink<PredictionLogEntry> predictionLog,
    IAggregateStore aggregates,
    IDeadLetters deadLetters,
    ServingOptions serving,
    ShadowOptions options,
    TimeProvider time,
    ILogger<ShadowScorer> logger)
{
    /// <summary>The dead-letter source name of this consumer.</summary>
    public const string Source = "mirror/shadow";

    /// <summary>Arm name of a shadow score in the model log and the aggregates.</summary>
    public const string ShadowArm = "shadow";

    /// <summary>Scores one batch, all from <paramref name="partition"/>, in sequence order.</summary>
    public async Task<ShadowBatchResult> ScoreAsync(string partition, IReadOnlyList<MirroredMessage> batch, CancellationToken cancellationToken = default)
    {
        // A fresh instance has not read the registry yet: scoring now would consume the batch without its
        // shadows, and the host would checkpoint past it. Fail instead, so the host delivers it again.
        await models.EnsureLoadedAsync(serving.ModelLoadWait, time, cancellationToken).ConfigureAwait(false);
        using var span = DarkShipTelemetry.Source.StartActivity("shadow.batch");
        span?.SetTag("partition", partition);
        span?.SetTag("events", batch.Count);
        var windows = new Dictionary<AggregateKey, Pending>();
        var logged = new List<PredictionLogEntry>();
        var asOfReads = new Dictionary<(string, string, DateTimeOffset), Task<FeatureRow?>>();
        int dead = 0, scored = 0, failed = 0;
        foreach (var message in batch)
        {
            MirrorEvent e;
            try
            {
                e = MirrorEventJson.Deserialize(Encoding.UTF8.GetBytes(message.Body));
            }
            catch (FormatException ex)
            {
                await DeadLetterAsync(partition, message, ex.Message, cancellationToken).ConfigureAwait(false);
                dead++;
                continue;
            }

            if (models.Find(e.Model) is not { } lineup)
            {
                continue; // nothing of this model is live here (any more)
            }

            var champion = e.Outputs.FirstOrDefault(o => o.Arm == PredictionService.ChampionArm && o.Error is null && o.Scores.Length > 0);
            var sampleKey = ShadowComparison.SampleKey(e.PredictionId);
            ObserveLive(partition, e, lineup, champion, message.SequenceNumber, sampleKey, windows);
            if (lineup.Shadows.Count == 0)
            {
                continue;
            }

            var bucket = TrafficSplit.Bucket(serving.AssignmentSalt, TrafficSplit.ShadowPurpose, lineup.Name, e.PartitionKey);
            foreach (var shadow in lineup.Shadows)
            {
                if (!TrafficSplit.IsIn(bucket, shadow.Version.SharePercent))
                {
                    continue;
                }

                var (observation, entry) = await ScoreShadowAsync(shadow, e, champion, message.SequenceNumber, sampleKey, asOfReads, cancellationToken).ConfigureAwait(false);
                Pend(windows, partition, shadow, ShadowArm, e.Timestamp).Add(observation);
                Record(shadow, observation);
                if (entry is not null)
                {
                    logged.Add(entry);
                    scored++;
                }
                else if (observation.Outcome is ScoringOutcome.Error or ScoringOutcome.TimedOut)
                {
                    failed++; // logged by the scorer, at most once a minute per version
                }
            }
        }

        if (logged.Count > 0)
        {
            // Upserts by (prediction, version): a re-delivery rewrites the same rows. Rows the log refuses are
            // lost whatever happens (logged); a storage failure fails the batch, so the host delivers it again.
            var delivery = await predictionLog.WriteAsync(logged, cancellationToken).ConfigureAwait(false);
            if (delivery.Rejected > 0)
            {
                LogRowsRefused(logger, partition, delivery.Rejected, delivery.Error?.Message);
            }

            if (delivery.Failed > 0)
            {
                throw new IOException($"The model log took {delivery.Delivered} of {logged.Count} shadow rows; the batch fails so that it is delivered again.", delivery.Error);
            }
        }

        var updated = 0;
        foreach (var (key, pending) in windows)
        {
            await aggregates.UpdateAsync(key, stored =>
            {
                var window = stored ?? new WindowAggregate(key, pending.Arm, pending.Model.Edges.Prediction);
                window.Arm = pending.Arm;
                return window.Apply(partition, pending.Observations, pending.Model.Edges.Feature) > 0 ? window : null;
            }, cancellationToken).ConfigureAwait(false);
            updated++;
        }

        return new ShadowBatchResult(batch.Count, dead, scored, failed, updated);
    }

    /// <summary>Telemetry of one shadow scoring (a re-delivered batch counts again here; the aggregates do not).</summary>
    private static void Record(LoadedModel shadow, Observation o)
    {
        KeyValuePair<string, object?> model = new("model", shadow.Version.Name), version = new("version", shadow.Version.Version);
        DarkShipTelemetry.ShadowScorings.Add(1, model, version, new("outcome", o.Outcome.ToString()));
        if (o.Outcome is ScoringOutcome.Scored or ScoringOutcome.TimedOut)
        {
            DarkShipTelemetry.ShadowDuration.Record(o.LatencyMs, model, version);
        }

        if (o.Agrees is { } agrees)
        {
            DarkShipTelemetry.ShadowPairs.Add(1, model, version, new("agrees", agrees));
        }
    }

    private Task DeadLetterAsync(string partition, MirroredMessage message, string reason, CancellationToken cancellationToken)
    {
        DarkShipTelemetry.DeadLetters.Add(1, new KeyValuePair<string, object?>("source", Source));
        LogDeadLetter(logger, partition, message.SequenceNumber, reason);
        return deadLetters.AddAsync(new DeadLetter(Source, partition, message.SequenceNumber, message.EnqueuedTime, reason, message.Body), cancellationToken);
    }

    /// <summary>The live versions' answers, as the event carries them: counts, latency, the served input, and the experiment paired with the champion.</summary>
    private void ObserveLive(string partition, MirrorEvent e, ModelLineup lineup, MirroredOutput? champion, long sequence, ulong sampleKey, Dictionary<AggregateKey, Pending> windows)
    {
        foreach (var output in e.Outputs)
        {
            var model = lineup.Champion?.Version.Version == output.Version ? lineup.Champion
                : lineup.Experiment?.Version.Version == output.Version ? lineup.Experiment
                : null;
            if (model is null)
            {
                continue; // answered by a version that has left the live path since
            }

            Observation observation;
            if (output.Error is not null || output.Scores.Length == 0)
            {
                observation = new Observation(sequence, ScoringOutcome.Error, e.TotalMilliseconds);
            }
            else
            {
                var paired = output.Arm != PredictionService.ChampionArm && champion is not null;
                observation = new Observation(
                    sequence, ScoringOutcome.Scored, e.TotalMilliseconds, output.Scores[0],
                    output.Served ? e.Features : null,
                    paired ? champion!.Scores[0] : null,
                    paired ? ShadowComparison.Agree(model, output.Scores[0], champion!.Scores[0]) : null,
                    sampleKey,
                    output.Served ? e.Degraded : null);
            }

            Pend(windows, partition, model, output.Arm, e.Timestamp).Add(observation);
        }
    }

    private async Task<(Observation Observation, PredictionLogEntry? Entry)> ScoreShadowAsync(
        LoadedModel shadow, MirrorEvent e, MirroredOutput? champion, long sequence, ulong sampleKey,
        Dictionary<(string, string, DateTimeOffset), Task<FeatureRow?>> asOfReads, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var plan = shadow.Plan;
        var inline = new object?[plan.Features.Length];
        foreach (var (name, value) in e.Inline)
        {
            var column = plan.IndexOf(name);
            if (column >= 0)
            {
                inline[column] = value;
            }
        }

        var rows = new FeatureRow?[plan.Groups.Length];
        for (var g = 0; g < plan.Groups.Length; g++)
        {
            var group = plan.Groups[g].Name;
            if (e.Groups.TryGetValue(group, out var mirrored) && GroupStatus.IsAnswer(mirrored.Status))
            {
                // What the live path read is what was true then: use it, found or not.
                rows[g] = mirrored.Values is { } values && mirrored.AsOf is { } asOf ? new FeatureRow(asOf, values) : null;
                continue;
            }

            if (!e.Entities.TryGetValue(group, out var entity))
            {
                continue; // no key for the group: missing, as it would have been live
            }

            // The champion did not read this group (or its read failed): read it as of the prediction's time.
            try
            {
                if (!asOfReads.TryGetValue((group, entity, e.Timestamp), out var read))
                {
                    asOfReads[(group, entity, e.Timestamp)] = read = features.GetAsOfAsync(group, entity, e.Timestamp, cancellationToken).AsTask();
                }

                rows[g] = await read.WaitAsync(TimeSpan.FromMilliseconds(options.FeatureBudgetMilliseconds), time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogFeaturesUnavailable(logger, shadow.Version.Name, shadow.Version.Version, group, ex.Message);
                return (new Observation(sequence, ScoringOutcome.FeaturesUnavailable, time.GetElapsedTime(started).TotalMilliseconds), null);
            }
        }

        var input = new float[plan.Features.Length];
        var fallbacks = new FeatureFallback[plan.Features.Length];
        plan.Fill(inline, rows, e.Timestamp, input, fallbacks);
        // The model is judged on its own time (an as-of read that was slow is the store's, not the model's),
        // and the budget holds even for a model that never returns.
        var scores = new float[shadow.OutputCount];
        var result = await scorer.ScoreWithinAsync(shadow, input, scores, TimeSpan.FromMilliseconds(options.ModelBudgetMilliseconds), cancellationToken).ConfigureAwait(false);
        var latencyMs = result.Milliseconds;
        if (!result.Succeeded)
        {
            var outcome = result.Status is ScoreStatus.TimedOut or ScoreStatus.Stuck ? ScoringOutcome.TimedOut : ScoringOutcome.Error;
            return (new Observation(sequence, outcome, latencyMs), null);
        }

        var named = new KeyValuePair<string, float>[input.Length];
        var degraded = new List<string>();
        for (var i = 0; i < input.Length; i++)
        {
            named[i] = KeyValuePair.Create(plan.Features[i].Name, input[i]);
            if (fallbacks[i] != FeatureFallback.None)
            {
                degraded.Add(DegradedReasons.Feature(plan.Features[i].Name, fallbacks[i]));
            }
        }

        var decision = shadow.Manifest.Decision?.Decide(scores[0]);
        var entry = new PredictionLogEntry(e.PredictionId, e.Model, shadow.Version.Version, ShadowArm, false, e.Timestamp, e.RequestId,
            e.Entities, named, scores, decision, degraded, latencyMs);
        var observation = new Observation(sequence, ScoringOutcome.Scored, latencyMs, scores[0], named,
            champion?.Scores[0], champion is null ? null : ShadowComparison.Agree(shadow, scores[0], champion.Scores[0]), sampleKey, degraded);
        return (observation, entry);
    }

    /// <summary>The observations waiting for <paramref name="model"/>'s window of <paramref name="at"/>, in this partition's own row of it.</summary>
    private List<Observation> Pend(Dictionary<AggregateKey, Pending> windows, string partition, LoadedModel model, string arm, DateTimeOffset at)
    {
        var length = TimeSpan.FromSeconds(options.WindowSeconds).Ticks;
        var start = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % length), TimeSpan.Zero);
        var key = new AggregateKey(model.Version.Name, model.Version.Version, model.Version.ChangedAt.ToUniversalTime(), start, partition);
        if (!windows.TryGetValue(key, out var pending))
        {
            windows[key] = pending = new Pending(model, arm, []);
        }

        return pending.Observations;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: the model log refused {Count} shadow rows, which are lost: {Reason}")]
    private static partial void LogRowsRefused(ILogger logger, string partition, int count, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mirror event {Partition}/{Sequence} went to the dead letters: {Reason}")]
    private static partial void LogDeadLetter(ILogger logger, string partition, long sequence, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shadow {Model} version {Version}: group '{Group}' could not be read as of the prediction ({Reason}); the request is skipped for it")]
    private static partial void LogFeaturesUnavailable(ILogger logger, string model, string version, string group, string reason);

    private sealed record Pending(LoadedModel Model, string Arm, List<Observation> Observations);
}
