using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using Microsoft.Extensions.Logging;
using DarkShip.Serving.Telemetry;

namespace DarkShip.Serving.Predictions;

/// <summary>One row to score.</summary>
/// <param name="Entities">Entity keys by feature group, e.g. <c>{"consumer": "c1"}</c>.</param>
/// <param name="Features">Inline values by feature name (double, bool, string; null = missing); they win over stored values.</param>
/// <param name="RequestId">The caller's id for the request.</param>
public sealed record PredictionRequest(IReadOnlyDictionary<string, string>? Entities, IReadOnlyDictionary<string, object?>? Features, string? RequestId);

/// <summary>The answer to one row.</summary>
/// <param name="PredictionId">Time-ordered id; outcomes are posted against it.</param>
/// <param name="Model">The model's name.</param>
/// <param name="Version">The version that answered.</param>
/// <param name="Arm"><c>champion</c> or <c>experiment</c>.</param>
/// <param name="Scores">The outputs (one, or one per class).</param>
/// <param name="Decision">The decision label, when the manifest has a threshold.</param>
/// <param name="Degraded">What fell back to defaults, e.g. <c>consumer:timedOut</c>, <c>txn_count_7d:stale</c>.</param>
/// <param name="FeatureAgeSeconds">Age of each group's row that was used.</param>
public sealed record Prediction(string PredictionId, string Model, string Version, string Arm, float[] Scores, string? Decision, IReadOnlyList<string> Degraded, IReadOnlyDictionary<string, double> FeatureAgeSeconds);

/// <summary>What a prediction call came to. Outcomes are values, not exceptions.</summary>
public abstract record PredictOutcome
{
    private PredictOutcome()
    {
    }

    /// <summary>Every row was scored.</summary>
    public sealed record Scored(IReadOnlyList<Prediction> Predictions) : PredictOutcome;

    /// <summary>No version of the model answers live traffic.</summary>
    public sealed record UnknownModel(string Model) : PredictOutcome;

    /// <summary>The request is well-formed but cannot be scored as given: errors by field.</summary>
    public sealed record Invalid(IReadOnlyDictionary<string, string[]> Errors) : PredictOutcome;

    /// <summary>The model cannot answer right now (still loading, failing, or a required group unreadable).</summary>
    public sealed record Unavailable(string Model, string Reason) : PredictOutcome;
}

/// <summary>
/// The live path: resolve the lineup, choose the arm, read every feature row the rows need in
/// parallel within the time budget, score, answer, and hand the mirror event and the model-log
/// rows to their queues. Nothing downstream (mirror, log, shadows) can fail or slow the answer.
/// </summary>
public sealed partial class PredictionService(
    IModelLineups models,
    FeatureReader features,
    ModelScorer scorer,
    IMirrorPublisher mirror,
    IPredictionLog predictionLog,
    TimeProvider time,
    ServingOptions options,
    ILogger<PredictionService> logger)
{
    /// <summary>Arm name of the champion.</summary>
    public const string ChampionArm = "champion";

    /// <summary>Arm name of the experiment.</summary>
    public const string ExperimentArm = "experiment";

    /// <summary>Longest caller <c>requestId</c>: it travels in the mirror event and the model log, which have size limits of their own.</summary>
    public const int MaxRequestIdLength = 128;

    /// <summary>Most entities one request may name (one per feature group).</summary>
    public const int MaxEntities = 32;

    /// <summary>Scores one row.</summary>
    public Task<PredictOutcome> PredictAsync(string model, PredictionRequest request, CancellationToken cancellationToken = default) =>
        PredictAsync(model, [request], cancellationToken);

    /// <summary>Scores rows together: their feature reads share one parallel round and one budget. All or nothing: one invalid row refuses the call.</summary>
    public async Task<PredictOutcome> PredictAsync(string model, IReadOnlyList<PredictionRequest> requests, CancellationToken cancellationToken = default)
    {
        using var span = DarkShipTelemetry.Source.StartActivity("predict");
        span?.SetTag("model", model);
        span?.SetTag("rows", requests.Count);
        var started = time.GetTimestamp();
        if (!await models.WaitUntilLoadedAsync(options.ModelLoadWait, time, cancellationToken).ConfigureAwait(false))
        {
            return new PredictOutcome.Unavailable(model, "The model registry has not been read yet; try again shortly.");
        }

        if (models.Find(model) is not { Champion: { } champion } lineup)
        {
            return new PredictOutcome.UnknownModel(model);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var rows = new Row[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            rows[i] = Plan(lineup, champion, requests[i], requests.Count > 1 ? $"rows[{i}]." : "", errors);
        }

        if (errors.Count > 0)
        {
            return new PredictOutcome.Invalid(errors);
        }

        // One parallel round for every (group, entity) any row needs.
        var wanted = new List<GroupWanted>();
        var slot = new Dictionary<(string, string?), int>();
        foreach (var row in rows)
        {
            foreach (var m in row.Scored)
            {
                foreach (var g in m.Plan.Groups)
                {
                    var key = (g.Name, row.Entities.GetValueOrDefault(g.Name));
                    if (!slot.ContainsKey(key))
                    {
                        slot[key] = wanted.Count;
                        wanted.Add(new GroupWanted(g.Name, key.Item2, g.CacheFor));
                    }
                }
            }
        }

        var reads = await features.ReadAsync(wanted, cancellationToken).ConfigureAwait(false);
        var featureMs = time.GetElapsedTime(started).TotalMilliseconds;
        var now = time.GetUtcNow();

        var answers = new Prediction[rows.Length];
        var logged = new List<(Row Row, ScoredBy[] By, Dictionary<string, MirroredGroup> Groups, LoadedModel? FailedExperiment)>(rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            var prefix = rows.Length > 1 ? $"rows[{i}]." : "";
            var by = new List<ScoredBy>(row.Scored.Length);
            LoadedModel? failedExperiment = null;
            foreach (var m in row.Scored)
            {
                var groupRows = new FeatureRow?[m.Plan.Groups.Length];
                for (var g = 0; g < m.Plan.Groups.Length; g++)
                {
                    var group = m.Plan.Groups[g];
                    var read = reads[slot[(group.Name, row.Entities.GetValueOrDefault(group.Name))]];
                    if (group.Required && read.Status != GroupReadStatus.Found)
                    {
                        if (read.Status == GroupReadStatus.NotFound)
                        {
                            errors[$"{prefix}entities.{group.Name}"] = [$"'{row.Entities[group.Name]}' has no features in group '{group.Name}', which version {m.Version.Version} requires."];
                        }
                        else if (m == champion)
                        {
                            return new PredictOutcome.Unavailable(model, $"The required feature group '{group.Name}' could not be read in time.");
                        }
                    }

                    groupRows[g] = read.Row;
                }

                var input = new float[m.Model.FeatureCount];
                var fallbacks = new FeatureFallback[m.Model.FeatureCount];
                m.Plan.Fill(row.Inline[m], groupRows, now, input, fallbacks);
                var scores = new float[m.OutputCount];
                if (scorer.Score(m, input, scores).Succeeded)
                {
                    by.Add(new ScoredBy(m, input, fallbacks, groupRows, scores));
                }
                else if (m == champion)
                {
                    return new PredictOutcome.Unavailable(model, $"Version {m.Version.Version} could not score the request.");
                }
                else
                {
                    failedExperiment = m;
                    LogExperimentFailed(logger, model, m.Version.Version);
                }
            }

            if (errors.Count > 0)
            {
                continue;
            }

            // The experiment (scored first) answers its arm unless it failed; then the champion does.
            var served = by[0];
            var arm = served.Model == champion ? ChampionArm : ExperimentArm;
            var (degraded, ages, groups) = Describe(served, row, reads, slot, now);
            answers[i] = new Prediction(
                PredictionId.New(time), model, served.Model.Version.Version, arm, served.Scores,
                served.Model.Manifest.Decision?.Decide(served.Scores[0]), degraded, ages);
            logged.Add((row, [served, .. by.Where(b => b != served)], groups, failedExperiment));
        }

        if (errors.Count > 0)
        {
            return new PredictOutcome.Invalid(errors);
        }

        var totalMs = time.GetElapsedTime(started).TotalMilliseconds;
        Record(model, featureMs, totalMs, answers);
        for (var i = 0; i < answers.Length; i++)
        {
            Publish(answers[i], logged[i].Row, logged[i].By, logged[i].Groups, logged[i].FailedExperiment, now, featureMs, totalMs);
        }

        return new PredictOutcome.Scored(answers);
    }

    /// <summary>The live path's metrics: time by stage (the rows of a batch share one), and each answer by version, arm and degradation.</summary>
    private static void Record(string model, double featureMs, double totalMs, Prediction[] answers)
    {
        var byModel = new KeyValuePair<string, object?>("model", model);
        DarkShipTelemetry.PredictDuration.Record(featureMs, byModel, new KeyValuePair<string, object?>("stage", "features"));
        DarkShipTelemetry.PredictDuration.Record(totalMs - featureMs, byModel, new KeyValuePair<string, object?>("stage", "scoring"));
        DarkShipTelemetry.PredictDuration.Record(totalMs, byModel, new KeyValuePair<string, object?>("stage", "total"));
        foreach (var answer in answers)
        {
            DarkShipTelemetry.PredictAnswers.Add(1, byModel, new("version", answer.Version), new("arm", answer.Arm), new("degraded", answer.Degraded.Count > 0));
        }
    }

    private Row Plan(ModelLineup lineup, LoadedModel champion, PredictionRequest request, string prefix, Dictionary<string, string[]> errors)
    {
        var entities = request.Entities ?? new Dictionary<string, string>();
        if (request.RequestId is { } requestId && (requestId.Length > MaxRequestIdLength || requestId.Any(char.IsControl)))
        {
            errors[$"{prefix}requestId"] = [$"A request id is at most {MaxRequestIdLength} characters, none of them control characters."];
        }

        if (entities.Count > MaxEntities)
        {
            errors[$"{prefix}entities"] = [$"A request names at most {MaxEntities} entities, one per feature group."];
        }

        foreach (var (group, key) in entities)
        {
            if (!FeatureGroups.IsValidName(group))
            {
                errors[$"{prefix}entities.{group}"] = ["A feature group name is a letter then up to 39 letters or digits."];
            }
            else if (FeatureGroups.ValidateEntityKey(key) is { } keyError)
            {
                errors[$"{prefix}entities.{group}"] = [keyError];
            }
        }

        var assignment = (champion.Manifest.AssignmentGroup is { } ag ? entities.GetValueOrDefault(ag) : null) ?? request.RequestId;
        var scored = lineup.Experiment is { } experiment && assignment is not null
            && TrafficSplit.IsIn(TrafficSplit.Bucket(options.AssignmentSalt, TrafficSplit.ExperimentPurpose, lineup.Name, assignment), experiment.Version.SharePercent)
            ? new[] { experiment, champion }
            : [champion];

        var inline = new Dictionary<LoadedModel, object?[]>(scored.Length);
        foreach (var m in scored)
        {
            inline[m] = new object?[m.Model.FeatureCount];
            foreach (var group in m.Plan.Groups.Where(g => g.Required && !entities.ContainsKey(g.Name)))
            {
                errors[$"{prefix}entities.{group.Name}"] = [$"Version {m.Version.Version} requires an entity key for group '{group.Name}'."];
            }
        }

        foreach (var (name, value) in request.Features ?? new Dictionary<string, object?>())
        {
            var known = false;
            foreach (var m in lineup.All)
            {
                var column = m.Plan.IndexOf(name);
                if (column < 0)
                {
                    continue;
                }

                known = true;
                if (value is null || !inline.TryGetValue(m, out var values))
                {
                    continue;
                }

                if (!m.Plan.TryEncode(column, value, out _, out var error))
                {
                    errors[$"{prefix}features.{name}"] = [$"'{name}' {error}."];
                }

                values[column] = value;
            }

            if (!known)
            {
                errors[$"{prefix}features.{name}"] = [$"No live version of '{lineup.Name}' reads a feature named '{name}'."];
            }
        }

        var inlineValues = (request.Features ?? new Dictionary<string, object?>())
            .Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value!, StringComparer.Ordinal);
        return new Row(request, entities, scored, inline, inlineValues, assignment);
    }

    private static (List<string> Degraded, Dictionary<string, double> Ages, Dictionary<string, MirroredGroup> Groups) Describe(
        ScoredBy served, Row row, GroupRead[] reads, Dictionary<(string, string?), int> slot, DateTimeOffset now)
    {
        var degraded = new List<string>();
        var ages = new Dictionary<string, double>(StringComparer.Ordinal);
        var groups = new Dictionary<string, MirroredGroup>(StringComparer.Ordinal);
        var plan = served.Model.Plan;
        foreach (var group in row.Scored.SelectMany(m => m.Plan.Groups).DistinctBy(g => g.Name))
        {
            var read = reads[slot[(group.Name, row.Entities.GetValueOrDefault(group.Name))]];
            var status = GroupStatus.Of(read.Status);
            double? age = read.Row is { } r ? Math.Max(0, (now - r.AsOf).TotalSeconds) : null;
            groups[group.Name] = new MirroredGroup(status, read.Row?.AsOf, age, read.Row?.Values);
            if (Array.Exists(plan.Groups, g => g.Name == group.Name))
            {
                if (age is { } a)
                {
                    ages[group.Name] = Math.Round(a, 3);
                }
                else
                {
                    degraded.Add(DegradedReasons.Group(group.Name, status));
                }
            }
        }

        for (var i = 0; i < plan.Features.Length; i++)
        {
            var fallback = served.Fallbacks[i];
            var group = plan.GroupIndex[i];
            if (fallback == FeatureFallback.None || (fallback == FeatureFallback.Missing && group >= 0 && served.GroupRows[group] is null))
            {
                continue; // used as given, or already named by its group
            }

            degraded.Add(DegradedReasons.Feature(plan.Features[i].Name, fallback));
        }

        return (degraded, ages, groups);
    }

    private void Publish(Prediction answer, Row row, ScoredBy[] by, Dictionary<string, MirroredGroup> groups, LoadedModel? failedExperiment, DateTimeOffset now, double featureMs, double totalMs)
    {
        var outputs = new List<MirroredOutput>(by.Length + 1);
        if (failedExperiment is not null)
        {
            // Counted against the experiment by ShadowScore, so its guardrail sees the failures the caller never did.
            outputs.Add(new MirroredOutput(failedExperiment.Version.Version, ExperimentArm, [], null, Served: false, Error: "could not score"));
        }

        var servedFeatures = Named(by[0]);
        foreach (var b in by)
        {
            var served = b == by[0];
            var arm = b.Model.Version.Stage == Registry.ModelStage.Experiment ? ExperimentArm : ChampionArm;
            var decision = b.Model.Manifest.Decision?.Decide(b.Scores[0]);
            outputs.Add(new MirroredOutput(b.Model.Version.Version, arm, b.Scores, decision, served));
            if (!predictionLog.TryAppend(new PredictionLogEntry(
                answer.PredictionId, answer.Model, b.Model.Version.Version, arm, served, now, row.Request.RequestId,
                row.Entities, served ? servedFeatures : Named(b), b.Scores, decision, served ? answer.Degraded : [], totalMs)))
            {
                LogNotLogged(logger, answer.PredictionId);
            }
        }

        var mirrored = new MirrorEvent(
            answer.PredictionId, answer.Model, now, row.Request.RequestId, row.Entities, row.AssignmentKey ?? answer.PredictionId,
            groups, row.InlineValues, servedFeatures, answer.Degraded, outputs, featureMs, totalMs);
        if (!mirror.TryPublish(mirrored))
        {
            LogNotMirrored(logger, answer.PredictionId);
        }
    }

    private static KeyValuePair<string, float>[] Named(ScoredBy b)
    {
        var named = new KeyValuePair<string, float>[b.Input.Length];
        for (var i = 0; i < named.Length; i++)
        {
            named[i] = KeyValuePair.Create(b.Model.Plan.Features[i].Name, b.Input[i]);
        }

        return named;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Model}: experiment version {Version} could not score a request; the champion answered it")]
    private static partial void LogExperimentFailed(ILogger logger, string model, string version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prediction {PredictionId} was not mirrored (buffer full)")]
    private static partial void LogNotMirrored(ILogger logger, string predictionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prediction {PredictionId} was not logged (buffer full)")]
    private static partial void LogNotLogged(ILogger logger, string predictionId);

    /// <summary>A request planned: which versions score it and what it gave inline.</summary>
    private sealed record Row(
        PredictionRequest Request,
        IReadOnlyDictionary<string, string> Entities,
        LoadedModel[] Scored,
        Dictionary<LoadedModel, object?[]> Inline,
        IReadOnlyDictionary<string, object> InlineValues,
        string? AssignmentKey);

    /// <summary>One version's scoring of a row.</summary>
    private sealed record ScoredBy(LoadedModel Model, float[] Input, FeatureFallback[] Fallbacks, FeatureRow?[] GroupRows, float[] Scores);
}
